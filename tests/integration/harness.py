"""Shared pieces of koeval's integration tests: paths, the loopback server,
running the koeval binary, and reading the SQLite store. Standard library only."""
import json
import os
import random
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

SOURCE = os.environ.get("KOEVAL_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
KOEVAL = os.environ.get("KOEVAL_BINARY") or os.path.join(SOURCE, "build", "koeval")
SUITE = os.path.join(SOURCE, "corpora", "starter", "starter.jsonl")
LOOPBACK = os.path.join(SOURCE, "tests", "server", "loopback.py")


class Loopback:
    """The loopback protocol server on a free 127.0.0.1 port."""

    def __init__(self, script=None, delay_ms=20, first_delay_ms=20):
        self.dir = tempfile.mkdtemp(prefix="koeval-lb-")
        args = ["python3", LOOPBACK, "--port", "0", "--delay-ms", str(delay_ms),
                "--first-delay-ms", str(first_delay_ms)]
        if script is not None:
            path = os.path.join(self.dir, "script.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(script, f)
            args += ["--script", path]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("loopback server did not start: " + self.proc.stderr.read())
        self.port = int(line.split()[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def log(self):
        with urllib.request.urlopen(self.url + "/__log", timeout=10) as r:
            return json.loads(r.read())

    def close(self):
        try:
            urllib.request.urlopen(urllib.request.Request(self.url + "/__shutdown", data=b""),
                                   timeout=5).read()
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def koeval(*args, env=None, timeout=300):
    """Runs koeval; returns (exit code, stdout, stderr)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([KOEVAL, *args], capture_output=True, text=True, env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def db_rows(path, sql, *params):
    con = sqlite3.connect(path)
    try:
        rows = con.execute(sql, params).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def seeded_random(seed=20261129):
    return random.Random(seed)


def wait_until(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False
