"""Shared fixtures for the Python checks: a real mweb on a temp database."""
import json
import os
import queue
import re
import shutil
import sqlite3
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


def start(cmd, env, wait_for=None):
    """Starts a process; with `wait_for`, waits (60 s) for a stdout line matching it and answers the match."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()
    if wait_for is None:
        return proc, None
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            m = re.search(wait_for, lines.get(timeout=0.5))
            if m:
                return proc, m
        except queue.Empty:
            if proc.poll() is not None:
                break
    stop(proc)
    raise AssertionError(f"{cmd[0]} did not print {wait_for!r}")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def new_database():
    """A temp database with one token per scope: (env, tokens)."""
    tmp = tempfile.mkdtemp(prefix="m-e2e-")
    # The workspaces' default root is under XDG_STATE_HOME: kept in the temp folder too.
    env = dict(os.environ, M_DB=os.path.join(tmp, "m.db"), XDG_STATE_HOME=os.path.join(tmp, "state"))
    mcli(env, "init")
    tokens = {s: json.loads(mcli(env, "token", "create", "--name", s, "--scope", s, "--json"))["token"]
              for s in ("read", "steer", "admin")}
    return env, tokens


@pytest.fixture
def mweb():
    """Yields (url, tokens by scope, env) for a live mweb; stops it afterwards."""
    env, tokens = new_database()
    # schemathesis sends deliberately wrong credentials; keep the limiter out of its way.
    web, m = start([os.path.join(BIN, "mweb"), "--port", "0", "--failed-auth-limit", "100000"], env,
                   r"listening on (http://[0-9.]+:\d+)")
    try:
        yield m.group(1), tokens, env
    finally:
        stop(web)


@pytest.fixture
def m_up():
    """Yields (url, tokens by scope, env) for a live mweb and mexec on one temp database: runs really run."""
    env, tokens = new_database()
    web, m = start([os.path.join(BIN, "mweb"), "--port", "0"], env, r"listening on (http://[0-9.]+:\d+)")
    exe, _ = start([os.path.join(BIN, "mexec"), "--cancel-grace-ms", "500"], env)
    try:
        yield m.group(1), tokens, env
    finally:
        # Executors outlive mexec by design: end this test's runs before stopping it.
        db = sqlite3.connect(env["M_DB"])
        open_runs = lambda: [r for (r,) in db.execute(
            "SELECT id FROM runs WHERE status NOT IN ('succeeded', 'failed', 'canceled', 'lost')")]
        for run_id in open_runs():
            subprocess.run([os.path.join(BIN, "mcli"), "cancel", str(run_id)], env=env, capture_output=True, timeout=30)
        deadline = time.time() + 20
        while open_runs() and time.time() < deadline:
            time.sleep(0.1)
        db.close()
        stop(exe)
        stop(web)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def playwright_browser():
    """(playwright, a headless Debian Chromium) shared by the browser tests; skips when Chromium is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield p, browser
        browser.close()


@pytest.fixture
def phone(playwright_browser):
    """`phone(color_scheme="light")` opens a new iPhone 13 browser context (its own cookies); all are closed afterwards."""
    p, browser = playwright_browser
    contexts = []

    def open_context(color_scheme="light", **extra):
        context = browser.new_context(**p.devices["iPhone 13"], color_scheme=color_scheme, **extra)
        contexts.append(context)
        return context
    yield open_context
    for c in contexts:
        c.close()


@pytest.fixture(scope="session")
def screenshots():
    """The folder screenshots go to: $M_SCREENSHOTS, else /tmp/m-web-screenshots (printed, so a person can look)."""
    folder = os.environ.get("M_SCREENSHOTS") or os.path.join(tempfile.gettempdir(), "m-web-screenshots")
    os.makedirs(folder, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder
