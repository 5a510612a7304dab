"""The web client in a real (headless) browser on a phone-sized screen:
pairing link → session cookie → run list → a run's live output → input."""
import os
import shutil
import sqlite3

import pytest
import requests

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed")
def test_pairing_link_signs_in_and_a_run_streams_live(mweb, tmp_path):
    from playwright.sync_api import sync_playwright, expect
    url, tokens, env = mweb
    auth = {"Authorization": f"Bearer {tokens['steer']}"}
    run = requests.post(f"{url}/api/v1/runs", headers=auth, json={"command": "cat", "title": "echo test"}, timeout=10).json()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(**p.devices["iPhone 13"]).new_page()
        page.goto(f"{url}/#token={tokens['steer']}")
        expect(page.locator("#runs li")).to_have_count(1, timeout=15000)
        assert "token" not in page.url, "the token left the address bar"
        cookies = page.context.cookies()
        assert any(c["name"] == "m_session" and c["httpOnly"] and c["sameSite"] == "Strict" for c in cookies)
        page.click("#runs li a")
        expect(page.locator("#run-title")).to_have_text("echo test", timeout=10000)
        # An executor's output, written straight into the database, appears live.
        db = sqlite3.connect(env["M_DB"])
        db.execute("UPDATE runs SET status='running', worker_id='w' WHERE id=?", (run["id"],))
        db.execute("INSERT INTO events (run_id, seq, type, data) VALUES (?, 2, 'output', ?)",
                   (run["id"], '{"stream":"stdout","text":"hello from the run\\n"}'))
        db.execute("UPDATE runs SET last_seq=2 WHERE id=?", (run["id"],))
        db.commit()
        expect(page.locator("#output")).to_contain_text("hello from the run", timeout=10000)
        page.fill("#input-text", "typed on the phone")
        page.click("#input-form button:not(.danger)")
        expect(page.locator("#input-text")).to_have_value("", timeout=10000)
        assert db.execute("SELECT text FROM inputs WHERE run_id=?", (run["id"],)).fetchall() == [("typed on the phone",)]
        page.screenshot(path=str(tmp_path / "run.png"))
        browser.close()
