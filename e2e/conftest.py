"""Shared fixtures for the Python checks: a real mweb on a temp database."""
import json
import os
import queue
import re
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "debug")


def mcli(env, *args):
    r = subprocess.run([os.path.join(BIN, "mcli"), *args], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def mweb():
    """Yields (url, tokens by scope) for a live mweb; stops it afterwards."""
    tmp = tempfile.mkdtemp(prefix="m-e2e-")
    # The workspaces' default root is under XDG_STATE_HOME: kept in the temp folder too.
    env = dict(os.environ, M_DB=os.path.join(tmp, "m.db"), XDG_STATE_HOME=os.path.join(tmp, "state"))
    mcli(env, "init")
    tokens = {s: json.loads(mcli(env, "token", "create", "--name", s, "--scope", s, "--json"))["token"]
              for s in ("read", "steer", "admin")}
    # schemathesis sends deliberately wrong credentials; keep the limiter out of its way.
    web = subprocess.Popen([os.path.join(BIN, "mweb"), "--port", "0", "--failed-auth-limit", "100000"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in web.stdout], daemon=True).start()
    url, deadline = None, time.time() + 60
    while url is None and time.time() < deadline:
        try:
            m = re.search(r"listening on (http://[0-9.]+:\d+)", lines.get(timeout=0.5))
            url = m and m.group(1)
        except queue.Empty:
            pass
    assert url, "mweb did not print its listening line"
    try:
        yield url, tokens, env
    finally:
        web.terminate()
        try:
            web.wait(10)
        except subprocess.TimeoutExpired:
            web.kill()
