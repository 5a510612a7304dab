"""The runs list and one run (issue 16): a run started from the new-run form
shows its stdout and stderr live, styled apart; input reaches the agent; the
list follows the all-runs stream without reloading; a 422 is shown clearly."""
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout, expect

from webapp import full_page_shot, api, log_lines, paired_page, wait_for

SCRIPT = ("echo \"env: $GREETING\"; printf 'out line\\n'; printf 'err line\\n' >&2; printf '\\033[32mgreen\\033[0m\\n'; "
          "read answer; echo \"agent got: $answer\"; printf 'no newline:'; read more; echo \"[$more]\"; cat; echo after-eof")


def test_a_run_from_the_form_streams_stdout_and_stderr_and_takes_input(m_up, phone, screenshots):
    url, tokens, _ = m_up
    page = paired_page(phone(permissions=["clipboard-read", "clipboard-write"]), url, tokens["steer"])
    page.click("#new-run-link")
    expect(page.locator("#new")).to_be_visible()
    # The kinds come from the server, and only those.
    expect(page.locator("#new-agent option")).to_have_count(1)
    assert page.eval_on_selector_all("#new-agent option", "os => os.map(o => o.value)") == \
        [a["kind"] for a in api(url, tokens["read"], "GET", "/agents").json()["agents"]]

    # A 422 says what is wrong and keeps what was typed.
    page.fill("#new-command", SCRIPT)
    page.fill("#new-title", "form run")
    page.click("#new-repo-box summary")
    page.fill("#new-repo", "--upload-pack=evil")
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_contain_text("Not started:")
    expect(page.locator("#new-error")).to_contain_text("repo.url must not start with '-'")
    expect(page.locator("#new-command")).to_have_value(SCRIPT)
    page.fill("#new-repo", "")
    page.click("#new-env-box summary")
    page.fill("#new-env", "GREETING=hi there\nnot a variable")
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_contain_text("environment line 2 is not NAME=value")
    page.fill("#new-env", "# a comment\nGREETING=hi there")

    page.click("#new-submit")
    expect(page.locator("#run")).to_be_visible(timeout=10000)
    expect(page.locator("#run-title")).to_have_text("form run")
    wait_for(lambda: "err line" in log_lines(page) and "green" in log_lines(page), message="stdout and stderr in the log")
    assert log_lines(page, "stdout")[:3] == ["env: hi there", "out line", "green"]
    assert log_lines(page, "stderr") == ["err line"]
    out = page.locator(".log-row.stdout", has_text="out line")
    err = page.locator(".log-row.stderr", has_text="err line")
    color = lambda loc: loc.evaluate("e => getComputedStyle(e).color")
    assert color(out) != color(err), "stderr looks like stdout"
    assert page.locator(".log-row.stdout .fg-2", has_text="green").count() == 1, "the ANSI green was not rendered"
    expect(page.locator("#run-status")).to_contain_text("running", timeout=10000)

    # A line (with Enter), then text without Enter, then EOF.
    page.fill("#input-text", "hello from the phone")
    page.click("#input-send")
    expect(page.locator("#input-text")).to_have_value("")
    wait_for(lambda: "agent got: hello from the phone" in log_lines(page), message="the agent's answer")
    assert "› hello from the phone" in log_lines(page, "meta")
    page.check("#input-no-enter")
    page.fill("#input-text", "part")
    page.click("#input-send")
    page.uncheck("#input-no-enter")
    page.fill("#input-text", "-two")
    page.click("#input-send")
    # "part" went without Enter, so the agent read one line: "part-two".
    wait_for(lambda: "[part-two]" in log_lines(page), message="text sent without Enter joined the next line")
    page.click("#input-eof")
    wait_for(lambda: "after-eof" in log_lines(page), message="EOF closed the agent's stdin")
    expect(page.locator("#run-status")).to_contain_text("succeeded", timeout=15000)
    expect(page.locator("#run-facts")).to_contain_text("exit 0")
    expect(page.locator("#controls")).to_be_hidden()
    full_page_shot(page, f"{screenshots}/run-finished-light.png")
    expect(page.locator("#cancel")).to_be_hidden()
    page.click("#log-copy")
    expect(page.locator("#log-copy")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert {"out line", "err line", "green", "agent got: hello from the phone", "after-eof"} <= set(copied.split("\n")), copied

    # The command is offered again on the next new run.
    page.evaluate("location.hash = '#/new'")
    expect(page.locator("#new-recent button")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    page.screenshot(path=f"{screenshots}/new-run-recent-light.png")
    page.click("#new-recent button")
    expect(page.locator("#new-command")).to_have_value(SCRIPT)


def test_the_list_is_live_and_shows_status_title_agent_and_exit_code(m_up, phone):
    url, tokens, env = m_up
    page = paired_page(phone(), url, tokens["steer"])
    expect(page.locator("#no-runs")).to_be_visible()
    # Runs created elsewhere appear, and change status, without a reload or a poll.
    fails = api(url, tokens["steer"], "POST", "/runs", {"command": "exit 3", "title": "fails"}).json()
    works = api(url, tokens["steer"], "POST", "/runs", {"command": "true", "title": "works"}).json()
    item = lambda run: page.locator(f"#runs li[data-id='{run['id']}']")
    expect(item(fails)).to_have_attribute("data-status", "failed", timeout=15000)
    expect(item(works)).to_have_attribute("data-status", "succeeded", timeout=15000)
    expect(item(fails).locator(".run-facts")).to_contain_text("exit 3")
    expect(item(fails).locator(".run-facts")).to_contain_text("command")
    expect(item(fails).locator(".badge")).to_contain_text("failed")
    expect(item(works).locator(".run-title")).to_have_text("works")
    assert page.eval_on_selector_all("#runs li", "ls => ls.map(l => Number(l.dataset.id))") == [works["id"], fails["id"]]
    assert item(fails).locator(".badge").evaluate("e => getComputedStyle(e).color") != \
        item(works).locator(".badge").evaluate("e => getComputedStyle(e).color")
    # Filtered by status, from the server; a run that changes status follows the filter.
    page.select_option("#status-filter", "failed")
    expect(page.locator("#runs li")).to_have_count(1)
    expect(item(fails)).to_be_visible()
    page.select_option("#status-filter", "running")
    expect(page.locator("#no-runs")).to_have_text("No running runs.")
    sleeper = api(url, tokens["steer"], "POST", "/runs", {"command": "sleep 30", "title": "sleeps"}).json()
    expect(item(sleeper)).to_be_visible(timeout=15000)
    api(url, tokens["steer"], "POST", f"/runs/{sleeper['id']}/cancel", {})
    expect(item(sleeper)).to_have_count(0, timeout=15000)
    page.select_option("#status-filter", "")
    expect(page.locator("#runs li")).to_have_count(3)
    requests_made = page.evaluate("performance.getEntriesByType('resource').filter(r => r.name.includes('/api/v1/runs?')).length")
    assert requests_made == 4, f"the list was fetched {requests_made} times: once, and once per filter; it should follow the stream"

    # Pull to refresh fetches the list again.
    touch = """([kind, y]) => {
        const t = new Touch({ identifier: 1, target: document.body, clientX: 150, clientY: y });
        window.dispatchEvent(new TouchEvent(kind, { touches: kind === 'touchend' ? [] : [t], changedTouches: [t] }));
    }"""
    page.evaluate(touch, ["touchstart", 100])
    page.evaluate(touch, ["touchmove", 140])
    expect(page.locator("#pull")).to_have_text("Pull to refresh")
    page.evaluate(touch, ["touchmove", 200])
    expect(page.locator("#pull")).to_have_text("Release to refresh")
    page.evaluate(touch, ["touchend", 200])
    expect(page.locator("#pull")).to_be_hidden()
    wait_for(lambda: page.evaluate(
        "performance.getEntriesByType('resource').filter(r => r.name.includes('/api/v1/runs?')).length") == 5,
        message="the list fetched again after the pull")


def test_a_run_that_does_not_exist_says_so_and_stops_reconnecting(m_up, phone):
    url, tokens, _ = m_up
    page = paired_page(phone(), url, tokens["read"], "#/runs/999")
    expect(page.locator("#run-title")).to_have_text("No run #999", timeout=10000)
    expect(page.locator("#conn")).to_be_hidden()
    expect(page.locator("#log")).to_be_hidden()
    # Retries come after 0.25 s, 0.5 s, 1 s…: none within 1.5 s means it stopped.
    with pytest.raises(PlaywrightTimeout):
        with page.expect_websocket(timeout=1500):
            pass


def test_the_run_view_shows_the_confinement_and_warns_when_there_is_none(m_up, phone, screenshots):
    url, tokens, env = m_up
    confined = api(url, tokens["steer"], "POST", "/runs", {"command": "echo in", "title": "confined"}).json()
    loose = api(url, tokens["steer"], "POST", "/runs", {"command": "echo out", "title": "loose", "sandbox": "none"}).json()
    for r in (confined, loose):
        wait_for(lambda: api(url, tokens["read"], "GET", f"/runs/{r['id']}").json()["status"] == "succeeded",
                 timeout=30, message="the runs to finish")
    page = paired_page(phone(), url, tokens["read"], f"#/runs/{loose['id']}")
    box = page.locator("#run-confinement")
    expect(box).to_contain_text("Not confined")
    assert "warning" in box.get_attribute("class")
    assert box.evaluate("e => getComputedStyle(e).color") != page.locator("#run-facts").evaluate("e => getComputedStyle(e).color")
    page.screenshot(path=f"{screenshots}/run-unconfined-light.png")
    expected = api(url, tokens["read"], "GET", f"/runs/{confined['id']}").json()["confinement"]
    page.evaluate(f"location.hash = '#/runs/{confined['id']}'")
    expect(page.locator("#run-title")).to_have_text("confined")
    expect(page.locator("#run-confinement")).to_have_text(f"Confined: {expected}" if expected == "bwrap" else
                                                          "⚠ Not confined: the agent can reach everything M's user can (sandbox none)")
