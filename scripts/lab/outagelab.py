"""The fault matrix's rows at scale (issue 12): one token endpoint down for many minutes under
10,000 grants, with the release binaries. Measured: the token requests that reached the endpoint
during the outage, the peak request rate (one-second samples of the emulator's own count), and the
time from the endpoint's return to every grant `authorized` (read from the database, read-only:
`status --json` of 10,000 grants every quarter second would be a load of its own).

Standard library only, like the rest of scripts/lab/. Never prints a token: the refresh tokens go
from the emulator into one file of mode 0600 that `import --from` reads, removed at once.
"""

import collections
import json
import os
import shutil
import sqlite3
import threading
import time

import tokendlab


class RateSampler(threading.Thread):
    """Counts the emulator's token requests once a second: (monotonic time, total) pairs."""

    def __init__(self, emulator):
        super().__init__(daemon=True)
        self.emulator = emulator
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                self.samples.append((time.monotonic(), self.emulator.token_requests()["total"]))
            except OSError:
                pass
            self.stopping.wait(1.0)

    def peak(self, start, end):
        """The highest requests-per-second between two monotonic moments."""
        window = [(t, n) for t, n in self.samples if start - 1.01 <= t <= end + 1.01]
        rates = [(n2 - n1) / (t2 - t1) for (t1, n1), (t2, n2) in zip(window, window[1:]) if t2 > t1]
        return max(rates, default=0.0)

    def stop(self):
        self.stopping.set()
        self.join(timeout=5)


class ScaleLab:
    """An emulator with `grants` libraries, all imported with `import --from`, and a daemon."""

    def __init__(self, bin_dir, grants, lifetime, settings):
        self.directory = tokendlab.scratch_directory("outage-")
        self.grants = grants
        self.emulator = tokendlab.Emulator(bin_dir, self.directory, [
            "--access-token-lifetime", str(lifetime), "--libraries", str(grants)])
        self.tokend = tokendlab.Tokend(bin_dir, self.directory, self.emulator.base, settings)
        self.bulk_import()
        self.tokend.start()
        if not self.tokend.wait_for_api(timeout=60):
            raise SystemExit(f"the daemon did not start; see {self.tokend.log_path}")

    def bulk_import(self):
        tokens = self.emulator.mint(self.grants)
        path = os.path.join(self.directory, "grants.jsonl")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            for number, token in enumerate(tokens, start=1):
                out.write(json.dumps({"organisation": "lab", "library": f"LIB{number:05d}", "refresh_token": token}) + "\n")
        del tokens
        started = time.monotonic()
        try:
            code, _, err = self.tokend.cli("import", "--from", path, "--concurrency", "16", timeout=1800)
        finally:
            os.remove(path)
        if code != 0:
            raise SystemExit(f"import --from failed (exit {code}): {err.strip()[-2000:]}")
        tokendlab.log(f"   imported {self.grants} grants in {time.monotonic() - started:.1f} s")

    def query(self, sql):
        connection = sqlite3.connect(f"file:{self.tokend.database}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def statuses(self):
        return collections.Counter({status: count for status, count in
                                    self.query("SELECT status, count(*) FROM grants GROUP BY status")})

    def not_authorized(self):
        return self.query("SELECT count(*) FROM grants WHERE status <> 'authorized'")[0][0]

    def outages(self):
        return self.query("SELECT endpoint, failed_probes, waiting_grants FROM endpoint_outages")

    def journal_lines(self, needle):
        return sum(1 for line in self.tokend.log_text().splitlines() if needle in line)

    def close(self, keep):
        self.tokend.stop()
        self.emulator.stop()
        if not keep:
            shutil.rmtree(self.directory, ignore_errors=True)


SCALE_ROWS = {
    "outage_503": ("the token endpoint answers 503", {"kind": "server_error", "status": 503}),
    "outage_hang": ("the token endpoint hangs (requests held, then dropped)", {"kind": "hang", "seconds": 3600, "then": "drop"}),
}


def measure_at_scale(bin_dir, key, options):
    """One row: steady state, the fault for `outage_minutes`, then recovery until every grant is authorized."""
    name, fault = SCALE_ROWS[key]
    tokendlab.log(f"== {key} at {options.grants} grants: {name}, {options.outage_minutes:g} min")
    settings = {"startup_refreshes_per_second": 1000}
    lab = ScaleLab(bin_dir, options.grants, options.scale_lifetime, settings)
    sampler = RateSampler(lab.emulator)
    try:
        sampler.start()
        time.sleep(options.steady_seconds)
        before = lab.emulator.token_requests()["total"]
        fault_at = time.monotonic()
        lab.emulator.add_fault({"endpoint": "token", **fault})
        detected = None
        seen = []
        ends = fault_at + options.outage_minutes * 60
        while time.monotonic() < ends:
            if detected is None and lab.outages():
                detected = time.monotonic() - fault_at
            for status in sorted(lab.statuses()):
                if status not in seen:
                    seen.append(status)
            time.sleep(1)
        during = lab.emulator.token_requests()["total"] - before
        at_end = lab.statuses()
        outage_rows = lab.outages()
        returned = time.monotonic()
        lab.emulator.clear_faults()
        first_answer = None
        recovered = None
        while time.monotonic() - returned < options.recovery_seconds:
            if first_answer is None and not lab.outages():
                first_answer = time.monotonic() - returned
            if lab.not_authorized() == 0:
                recovered = time.monotonic() - returned
                break
            time.sleep(0.25)
        time.sleep(2)
        sampler.stop()
        return {
            "key": key, "name": name, "grants": options.grants, "minutes": options.outage_minutes,
            "detected": detected, "requests": during, "per_minute_after_detection":
                None if detected is None else during / max(options.outage_minutes - detected / 60, 1e-9),
            "peak_outage": sampler.peak(fault_at, returned), "peak_recovery": sampler.peak(returned, time.monotonic()),
            "peak_steady": sampler.peak(fault_at - options.steady_seconds + 2, fault_at),
            "first_answer": first_answer, "recovered": recovered, "seen": seen,
            "at_end": dict(at_end), "probes": outage_rows[0][1] if outage_rows else None,
            "down_lines": lab.journal_lines("is down:"), "up_lines": lab.journal_lines("answers again"),
        }
    finally:
        sampler.stop()
        lab.close(options.keep)


def seconds(value):
    return "-" if value is None else f"{value:.1f} s"


def print_scale_table(machine, results, options):
    print()
    print(f"Fault matrix at scale, {machine}: {options.grants} library grants, access tokens of "
          f"{options.scale_lifetime} s, default [refresh] settings (backoff 30 s to 5 min, outage_grants 3, "
          f"outage_probe_max_seconds 2, recovery_refreshes_per_second 2000), each outage {options.outage_minutes:g} min.")
    print()
    print("| fault | statuses seen during it | marked down after | token requests during it | peak rate: steady / outage / recovery "
          "| first answer after the return | every grant `authorized` after the return | journal lines down / up |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {' → '.join(r['seen'])} | {seconds(r['detected'])} | {r['requests']} "
              f"| {r['peak_steady']:.0f} / {r['peak_outage']:.0f} / {r['peak_recovery']:.0f} per s "
              f"| {seconds(r['first_answer'])} | {seconds(r['recovered']) if r['recovered'] is not None else 'not within ' + str(options.recovery_seconds) + ' s'} "
              f"| {r['down_lines']} / {r['up_lines']} |")
