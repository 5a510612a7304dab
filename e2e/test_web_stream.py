"""The connection (issue 16): a network drop mid-run (offline, then online) and
a page hidden then shown again resume from the last seq: the log has no gap
and no duplicate, and the indicator says what is going on."""
import sqlite3

from playwright.sync_api import expect

from webapp import api, log_lines, paired_page, wait_for

LINES = 150


def test_offline_then_online_and_hidden_then_shown_lose_and_repeat_nothing(m_up, phone):
    url, tokens, env = m_up
    run = api(url, tokens["steer"], "POST", "/runs",
              {"command": f"for i in $(seq 1 {LINES}); do echo line $i; sleep 0.02; done", "title": "counts"}).json()
    context = phone()
    page = paired_page(context, url, tokens["steer"], f"#/runs/{run['id']}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=10000)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    db = sqlite3.connect(env["M_DB"])
    last_seq = lambda: db.execute("SELECT last_seq FROM runs WHERE id=?", (run["id"],)).fetchone()[0]
    wait_for(lambda: len(log_lines(page, "stdout")) >= 10, message="the first lines")

    context.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    at = last_seq()
    wait_for(lambda: last_seq() >= at + 20, message="output while the phone is offline")
    shown = len(log_lines(page, "stdout"))
    context.set_offline(False)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=10000)
    wait_for(lambda: len(log_lines(page, "stdout")) > shown + 10, message="the missed lines after coming back")
    assert len(sockets) == 1 and f"after=" in sockets[0] and "after=0" not in sockets[0], sockets

    # iOS suspends a hidden page; coming back reconnects from the cursor.
    with page.expect_websocket(timeout=10000) as reopened:
        page.evaluate("""() => {
            const set = (v) => { Object.defineProperty(document, 'visibilityState', {value: v, configurable: true});
                                 document.dispatchEvent(new Event('visibilitychange')); };
            set('hidden'); set('visible');
        }""")
    assert "after=" in reopened.value.url and "after=0" not in reopened.value.url, reopened.value.url
    wait_for(lambda: db.execute("SELECT status FROM runs WHERE id=?", (run["id"],)).fetchone()[0] == "succeeded",
             timeout=30, message="the run to finish")
    expected = [f"line {i}" for i in range(1, LINES + 1)]
    wait_for(lambda: log_lines(page, "stdout") == expected, message="every line exactly once, in order")
