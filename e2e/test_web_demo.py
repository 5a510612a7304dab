"""The v0 demo on the phone, against a live `mcli up` on a temporary database
(issue 16): pair with the link `mcli up` prints → create a run from the
new-run form → its stdout and stderr arrive live and look different → send
input and see the agent's answer → a command approval → approve → the run
continues → a question answered with text the agent prints → a diff approval
with the right files and counts → approve → the commit exists → the run
completes and the list shows it."""
import os
import subprocess
import tempfile

from playwright.sync_api import expect

import conftest
from test_web_diff import make_repo
from webapp import full_page_shot, log_lines, wait_for

AGENT = ("echo 'agent up'; echo 'working…' >&2; read name; echo \"hello, $name\"; "
         "mcli ask --kind command 'make deploy' && echo 'deploying'; "
         "answer=$(mcli ask --kind question 'Which environment?'); echo \"environment: $answer\"; "
         "echo fixed > a.txt; mcli propose --message 'fix a.txt' && echo 'committed'")


def test_the_whole_demo_on_the_phone_against_mcli_up(phone, tmp_path, screenshots):
    tmp = tempfile.mkdtemp(prefix="m-demo-")
    env = dict(os.environ, M_DB=os.path.join(tmp, "m.db"))
    up, m = conftest.start([os.path.join(conftest.BIN, "mcli"), "up", "--port", "0"], env, r"(http://\S+/#token=\S+)")
    try:
        link = m.group(1)
        make_repo(tmp_path / "repo")
        page = phone().new_page()
        page.goto(link)
        expect(page.locator("#list")).to_be_visible(timeout=15000)
        assert "#token" not in page.url

        page.click("#new-run-link")
        page.fill("#new-command", AGENT)
        page.fill("#new-title", "the demo")
        page.click("#new-repo-box summary")
        page.fill("#new-repo", str(tmp_path / "repo"))
        page.click("#new-submit")
        expect(page.locator("#run-title")).to_have_text("the demo", timeout=10000)
        wait_for(lambda: "agent up" in log_lines(page, "stdout") and "working…" in log_lines(page, "stderr"),
                 timeout=20, message="stdout and stderr")
        color = lambda text: page.locator(".log-row", has_text=text).evaluate("e => getComputedStyle(e).color")
        assert color("agent up") != color("working…")

        page.fill("#input-text", "phone")
        page.click("#input-send")
        wait_for(lambda: "hello, phone" in log_lines(page), message="the agent's answer to the input")

        card = page.locator(".approval.pending")
        expect(card.locator(".approval-command")).to_have_text("make deploy", timeout=15000)
        card.locator("button.ok").click()
        wait_for(lambda: "deploying" in log_lines(page), message="the run going on after the approval")

        expect(card.locator(".approval-title")).to_have_text("Which environment?", timeout=15000)
        card.locator("textarea").fill("staging")
        card.locator("button.ok").click()
        wait_for(lambda: "environment: staging" in log_lines(page), message="the answer printed by the agent")

        expect(card.locator(".diff-file")).to_have_count(1, timeout=20000)
        expect(card.locator(".diff-file")).to_have_attribute("data-path", "a.txt")
        expect(card.locator(".diff-counts")).to_have_text("+1 −3")
        page.evaluate("scrollTo(0, 0)")  # a full-page shot of a scrolled page draws the sticky bar mid-page
        full_page_shot(page, f"{screenshots}/demo-diff-light.png")
        card.locator("button.ok").click()
        wait_for(lambda: "committed" in log_lines(page), timeout=30, message="the approved diff committed")
        expect(page.locator("#run-status")).to_contain_text("succeeded", timeout=15000)
        workspace = page.locator("#run-workspace").inner_text().split(" → ")[-1]
        subject = subprocess.run(["git", "-C", workspace, "log", "-1", "--format=%s", "refs/m/approved"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        assert subject == "fix a.txt"

        page.click("nav.back a")
        expect(page.locator("#runs li").first).to_have_attribute("data-status", "succeeded", timeout=10000)
        expect(page.locator("#runs li .run-facts").first).to_contain_text("exit 0")
        assert page.title() == "M", "nothing waits any more"
    finally:
        conftest.stop(up)
