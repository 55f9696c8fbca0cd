"""The parts the crash run and the fault matrix share: the real binaries (imanage-emulator and
imanage-tokend) run as processes in a scratch directory, driven only through what an administrator
has too: the configuration file, `import`, `status --json`, the token API socket, signals, and the
emulator's control API. Standard library only, so a fresh Debian machine needs nothing more.

Never prints a token: refresh tokens go from the emulator straight into files of mode 0600 that
`import` reads, and nothing here reads the daemon's tokens back.
"""

import datetime
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(message):
    print(message, flush=True)


def build(release=False):
    """Builds the two binaries (debug, or release) and returns the folder they are in."""
    log("== building imanage-tokend and imanage-emulator (the first build takes several minutes)")
    mode = ["-c", "release"] if release else []
    result = subprocess.run(["swift", "build", *mode], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stdout[-4000:] + "\nthe build failed")
    bin_dir = subprocess.run(["swift", "build", *mode, "--show-bin-path"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             check=True).stdout.strip()
    return bin_dir


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_kind(bin_dir):
    """"release" or "debug", from the folder of the binaries (SwiftPM names it so); "given" otherwise."""
    name = os.path.basename(os.path.realpath(bin_dir)) if bin_dir else "debug"
    return name if name in ("release", "debug") else f"given ({bin_dir})"


def machine_description(build="debug"):
    """One line: the date, CPU, cores, memory, kernel and Swift version, for figures in the README."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            kib = int(info.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    swift = subprocess.run(["swift", "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    swift_line = next((line for line in swift.splitlines() if "Swift version" in line), "Swift ?")
    swift_version = swift_line.split("Swift version", 1)[1].split()[0] if "Swift version" in swift_line else "?"
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    return (f"{today}, {os.cpu_count()} cores ({model}){memory}, Linux {platform.release()}, "
            f"Swift {swift_version}, {build} build")


class Emulator:
    """The iManage emulator as a process, with its control API."""

    def __init__(self, bin_dir, directory, arguments):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(directory, "emulator.log")
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [os.path.join(bin_dir, "imanage-emulator"), "--port", str(self.port)] + arguments,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.get("/_emulator/stats")
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"the emulator did not start; see {self.log_path}")

    def request(self, method, path, body=None, accept="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", "Accept": accept})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.read().decode()

    def get(self, path):
        return json.loads(self.request("GET", path))

    def post(self, path, body):
        text = self.request("POST", path, body)
        return json.loads(text) if text else None

    def mint(self, count, user="ALICE"):
        """Refresh tokens of `count` new grants (kept in memory only; written to 0600 files for import)."""
        return self.post("/_emulator/grants", {"user": user, "client_id": "tokend-demo", "count": count})

    def token_requests(self):
        """Requests the token endpoint has answered: {"total": N, "success": N, "invalid_grant": N, …}."""
        return self.get("/_emulator/stats")["endpoints"]["token"]

    def reuse(self):
        """The grants revoked for reuse of a rotated refresh token, split by what the emulator saw:
        {"revoked": N, "second_refresher": N (the successor token was presented too: two holders
        refreshed one grant), "lost_answer": N (the successor was never presented: the answer of the
        rotation was lost, a crash), "overlapping": N (token requests of one grant chain in flight at once)}."""
        summary = self.get("/_emulator/grants")
        return {"revoked": summary["reuse_revocations"], "second_refresher": summary["reuse_by_second_refresher"],
                "lost_answer": summary["reuse_after_lost_answer"], "overlapping": summary["overlapping_refreshes"]}

    def add_fault(self, fault):
        return self.post("/_emulator/faults", fault)

    def clear_faults(self):
        self.request("DELETE", "/_emulator/faults")

    def settings(self, change):
        self.request("PATCH", "/_emulator/settings", change)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over the daemon's Unix socket (the token API)."""

    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class Tokend:
    """A scratch installation of imanage-tokend: configuration, key, secret, database, and the daemon process."""

    def __init__(self, bin_dir, directory, token_url, refresh_settings, extra_top_level="", extra_organisation=""):
        self.binary = os.path.join(bin_dir, "imanage-tokend")
        self.directory = directory
        self.config = os.path.join(directory, "tokend.toml")
        self.socket = os.path.join(directory, "api.sock")
        self.database = os.path.join(directory, "tokend.sqlite")
        self.log_path = os.path.join(directory, "daemon.log")
        self.process = None
        # Put before the daemon's command line (e.g. setpriv, to run it as another user).
        self.run_prefix = []
        old = os.umask(0o077)
        try:
            with open(os.path.join(directory, "token.key"), "wb") as key:
                key.write(os.urandom(32))
            with open(os.path.join(directory, "client-secret"), "w") as secret:
                secret.write("demo-secret\n")
        finally:
            os.umask(old)
        settings = "\n".join(f"{key} = {value}" for key, value in refresh_settings.items())
        self.toml = f"""# Written by scripts/lab/tokendlab.py for a crash or fault run.
database = "tokend.sqlite"
key_file = "token.key"
public_url = "http://127.0.0.1:9"
api_socket = "api.sock"
{extra_top_level}
[refresh]
{settings}

[[organisation]]
name = "lab"
use_default_configuration = false
region = "custom"
authorization_url = "{token_url}"
token_url = "{token_url}"
client_id = "tokend-demo"
client_secret_file = "client-secret"
{extra_organisation}
"""
        self.write_config(self.toml)

    def write_config(self, text):
        with open(self.config, "w") as out:
            out.write(text)

    def cli(self, *arguments, stdin=None, timeout=120):
        """Runs a subcommand; returns (exit code, stdout, stderr)."""
        result = subprocess.run([self.binary, *arguments, "--config", self.config], input=stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        return result.returncode, result.stdout, result.stderr

    def import_libraries(self, emulator, libraries, parallel=4):
        """Brings in one fresh grant per library with `import`, as an administrator moving from
        another system would. The tokens go through files of mode 0600 that are removed at once."""
        tokens = emulator.mint(len(libraries))
        token_dir = tempfile.mkdtemp(prefix="import-", dir=self.directory)

        def one(pair):
            library, token = pair
            path = os.path.join(token_dir, library)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(token)
            try:
                code, _, err = self.cli("import", "--organisation", "lab", "--library", library,
                                        "--refresh-token-file", path)
            finally:
                os.remove(path)
            if code != 0:
                raise SystemExit(f"import of {library} failed: {err.strip()}")

        with ThreadPoolExecutor(max_workers=parallel) as pool:
            list(pool.map(one, zip(libraries, tokens)))
        shutil.rmtree(token_dir, ignore_errors=True)

    def start(self, arguments=()):
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen([*self.run_prefix, self.binary, "run", "--config", self.config, *arguments],
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self.process

    def wait_for_api(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            try:
                self.api("GET", "/v1/status")
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def signal(self, number):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(number)

    def kill(self):
        """SIGKILL, as a power cut or the OOM killer would."""
        self.signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout=60):
        """SIGTERM and the exit code (refreshes in flight finish first)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def api(self, method, path, body=None, timeout=60):
        connection = UnixHTTPConnection(self.socket, timeout=timeout)
        try:
            payload = json.dumps(body) if body is not None else None
            connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read() or b"null")
        finally:
            connection.close()

    def status(self):
        """`status --json`: (exit code, the parsed object)."""
        code, out, err = self.cli("status", "--json")
        try:
            return code, json.loads(out)
        except json.JSONDecodeError:
            raise SystemExit(f"status --json printed no JSON (exit {code}): {err.strip()}")

    def grants(self):
        return {entry["id"]: entry for entry in self.status()[1]["libraries"]}

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as text:
                return text.read()
        except OSError:
            return ""


def scratch_directory(prefix):
    """A short directory (a Unix socket path must fit in 108 bytes), mode 0700."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def epoch(rfc3339):
    """Seconds since 1970 of an RFC 3339 UTC time as the daemon prints it."""
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def jittered(low, high):
    return random.uniform(low, high)


def median(values):
    ordered = sorted(values)
    if not ordered:
        return 0
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
