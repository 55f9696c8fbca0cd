#!/usr/bin/python3
"""The peer of scripts/benchmark-peer: the refresher a user would write in an afternoon.

Keeps N grants alive against an OAuth token endpoint: refresh at half an access token's life
(with the daemon's 10% jitter), `requests.Session` kept alive, tokens sealed with AES-GCM
(`cryptography`), one row per grant in SQLite (WAL, synchronous=FULL), one commit per refresh.
Reads refresh tokens (one a line) from a file of mode 0600; never prints one. Writes
"refreshes failures" to --status-file once a second, for the harness to count.
"""
import argparse, heapq, os, random, sqlite3, threading, time
import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

parser = argparse.ArgumentParser()
for name in ("token-url", "tokens-file", "database", "status-file"):
    parser.add_argument("--" + name, required=True)
parser.add_argument("--threads", type=int, default=8)
parser.add_argument("--lifetime", type=float, default=20, help="access token lifetime, to spread the first refreshes")
parser.add_argument("--client-id", default="tokend-demo")
parser.add_argument("--client-secret", default="demo-secret")
options = parser.parse_args()
key = AESGCM(os.urandom(32))
counts = {"refreshes": 0, "failures": 0}
counts_lock = threading.Lock()
write_lock = threading.Lock()  # one writer at a time: SQLite's busy handler would sleep instead


def seal(text, grant):
    nonce = os.urandom(12)
    return nonce + key.encrypt(nonce, text.encode(), grant.encode())


def open_sealed(blob, grant):
    return key.decrypt(blob[:12], blob[12:], grant.encode()).decode()


def connect():
    db = sqlite3.connect(options.database, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def worker(grants):
    db, session = connect(), requests.Session()
    half = options.lifetime / 2
    heap = [(time.time() + random.uniform(0, half), grant) for grant in grants]
    heapq.heapify(heap)
    while True:
        due, grant = heapq.heappop(heap)
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        (sealed,) = db.execute("SELECT refresh_token FROM grants WHERE id = ?", (grant,)).fetchone()
        try:
            answer = session.post(options.token_url, timeout=30, data={
                "grant_type": "refresh_token", "refresh_token": open_sealed(sealed, grant),
                "client_id": options.client_id, "client_secret": options.client_secret})
            answer.raise_for_status()
            tokens = answer.json()
        except (requests.RequestException, ValueError):
            with counts_lock:
                counts["failures"] += 1
            heapq.heappush(heap, (time.time() + 5, grant))
            continue
        life = float(tokens.get("expires_in", 1800))
        half = life / 2
        now = time.time()
        refresh = tokens.get("refresh_token")
        row = (seal(tokens["access_token"], grant), now + life, refresh and seal(refresh, grant),
               now + half * random.uniform(0.9, 1.1), now, grant)
        with write_lock:
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE grants SET access_token = ?, access_expires_at = ?, refresh_token = coalesce(?, refresh_token), "
                       "next_refresh_at = ?, last_refresh_at = ? WHERE id = ?", row)
            db.execute("COMMIT")
        with counts_lock:
            counts["refreshes"] += 1
        heapq.heappush(heap, (now + max(5.0, half * random.uniform(0.9, 1.1)), grant))


def main():
    with open(options.tokens_file) as lines:
        tokens = [line.strip() for line in lines if line.strip()]
    db = connect()
    db.execute("CREATE TABLE IF NOT EXISTS grants (id TEXT PRIMARY KEY, refresh_token BLOB, access_token BLOB, "
               "access_expires_at REAL, next_refresh_at REAL, last_refresh_at REAL)")
    db.execute("BEGIN")
    ids = [f"G{index}" for index in range(len(tokens))]
    db.executemany("INSERT INTO grants (id, refresh_token) VALUES (?, ?)",
                   [(grant, seal(token, grant)) for grant, token in zip(ids, tokens)])
    db.execute("COMMIT")
    for index in range(options.threads):
        threading.Thread(target=worker, args=(ids[index::options.threads],), daemon=True).start()
    while True:
        time.sleep(1)
        with counts_lock:
            line = f"{counts['refreshes']} {counts['failures']}\n"
        with open(options.status_file + ".tmp", "w") as out:
            out.write(line)
        os.replace(options.status_file + ".tmp", options.status_file)


main()
