"""Helpers for the web app's browser tests: signing a phone in, reading the log model, waiting with a deadline."""
import json
import os
import sqlite3
import subprocess
import time

from conftest import BIN

import requests


def paired_page(context, url, token, route="#/"):
    """A page of `context` signed in through the pairing link, showing `route`."""
    page = context.new_page()
    page.goto(f"{url}/#token={token}")
    page.locator("#list").wait_for(timeout=15000)
    if route != "#/":
        page.evaluate("r => { location.hash = r; }", route)
    return page


def log_lines(page, stream=None):
    """The run view's log as lines (the model, not the few rows in the DOM); `stream` picks stdout, stderr or meta."""
    return page.evaluate("""s => document.querySelector('#log').logView.lines
        .filter(l => !(l.open && l.len === 0) && (!s || l.stream.split(' ')[0] === s))
        .map(l => l.segs.map(x => x.text).join(''))""", stream)


def wait_for(condition, timeout=10.0, message="condition"):
    """Polls `condition()` until it is truthy (answers it) or the deadline passes (fails)."""
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.05)


def api(url, token, method, path, body=None):
    """One API call with a bearer token; answers the response."""
    return requests.request(method, f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"},
                            json=body, timeout=10)


def run_status(env, run_id):
    db = sqlite3.connect(env["M_DB"])
    try:
        return db.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()[0]
    finally:
        db.close()


def mcli(env, *args):
    r = subprocess.run([os.path.join(BIN, "mcli"), *args], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def full_page_shot(page, path):
    """A screenshot of the whole page from its top: a page scrolled down (by typing in a field near
    its end) would draw the sticky top bar over the middle and leave a blank band above it."""
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("window.scrollY === 0")
    page.screenshot(path=path, full_page=True)
