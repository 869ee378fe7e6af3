"""Shared pieces of koeval's integration tests: paths, the loopback server,
llama.cpp's llama-server, running the koeval binary, and reading the SQLite
store. Standard library only."""
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE = os.environ.get("KOEVAL_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
KOEVAL = os.environ.get("KOEVAL_BINARY") or os.path.join(SOURCE, "build", "koeval")
SUITE = os.path.join(SOURCE, "corpora", "starter", "starter.jsonl")
LOOPBACK = os.path.join(SOURCE, "tests", "server", "loopback.py")
# The trained 260K-parameter model in ../shared (absent in a fresh clone).
SHARED_MODEL = os.path.join(SOURCE, "..", "shared", "models", "stories260K.gguf")


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


def llama_server_binary():
    """The llama-server that scripts/llama-server.sh builds (once, then cached)."""
    out = subprocess.run([os.path.join(SOURCE, "scripts", "llama-server.sh")],
                         capture_output=True, text=True, timeout=3000)
    if out.returncode != 0:
        raise RuntimeError("scripts/llama-server.sh failed: " + out.stderr[-2000:])
    return out.stdout.strip().splitlines()[-1]


def model_path(tmp):
    """SHARED_MODEL, or (when ../shared/models is absent) a random-weight model
    made in tmp."""
    if os.path.exists(SHARED_MODEL):
        return SHARED_MODEL
    print("../shared/models is absent: making a random-weight model", file=sys.stderr)
    path = os.path.join(tmp, "random.gguf")
    subprocess.run([os.path.join(SOURCE, "scripts", "make-random-model.sh"), path],
                   check=True, capture_output=True, timeout=600)
    return path


class LlamaServerProcess:
    """llama.cpp's llama-server serving `model` on a free 127.0.0.1 port (4096
    context, 4 slots, --no-jinja), its output in log_path; ready (GET /health
    is 200) when the constructor returns."""

    def __init__(self, model, log_path):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [llama_server_binary(), "-m", model, "--host", "127.0.0.1", "--port",
             str(self.port), "-c", "4096", "--parallel", "4", "--no-jinja"],
            stdout=self.log, stderr=subprocess.STDOUT)
        url = self.url + "/health"

        def healthy():
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    return r.status == 200
            except Exception:
                return self.proc.poll() is not None
        if not wait_until(healthy, 120) or self.proc.poll() is not None:
            raise RuntimeError("llama-server did not start")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


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
