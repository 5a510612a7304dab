"""A run's transcript (issue 16): GET /api/v1/runs/{id}/transcript opened in
the phone's browser with scripts turned off reads like the run view: stdout
and stderr apart, ANSI colours, input, the approval and its decision; an
output line holding <script> is text and runs nothing."""
from playwright.sync_api import expect

from webapp import api, paired_page, run_status, wait_for

SCRIPT = ("printf 'plain out\\n'; printf '\\033[32mgreen out\\033[0m\\n'; printf 'on stderr\\n' >&2; "
          "echo '<script>document.title=\"pwned\"</script><img src=x onerror=alert(1)>'; "
          "mcli ask --kind command 'make deploy' && echo approved-and-on; read line; echo \"read: $line\"")


def test_the_html_transcript_reads_like_the_run_view_without_scripts(m_up, phone, screenshots):
    url, tokens, env = m_up
    run = api(url, tokens["steer"], "POST", "/runs", {"command": SCRIPT, "title": "exported <run>"}).json()
    wait_for(lambda: api(url, tokens["read"], "GET", "/approvals?status=pending").json()["approvals"], timeout=20,
             message="the approval")
    approval = api(url, tokens["read"], "GET", "/approvals?status=pending").json()["approvals"][0]
    assert api(url, tokens["steer"], "POST", f"/approvals/{approval['id']}", {"decision": "approve", "note": "ok <b>"}).status_code == 200
    assert api(url, tokens["steer"], "POST", f"/runs/{run['id']}/input", {"text": "typed"}).status_code == 202
    wait_for(lambda: run_status(env, run["id"]) == "succeeded", timeout=20, message="the run to finish")

    for scheme in ("light", "dark"):
        context = phone(color_scheme=scheme, java_script_enabled=False)
        # Signed in through the API's cookie: the page is fetched like the app's Export link does.
        signed = phone(color_scheme=scheme)
        paired_page(signed, url, tokens["read"])
        context.add_cookies(signed.cookies())
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        response = page.goto(f"{url}/api/v1/runs/{run['id']}/transcript")
        assert response.status == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
        expect(page.locator("h1")).to_have_text("exported <run>")
        expect(page.locator(".facts").first).to_contain_text("succeeded · exit 0")
        out, err = page.locator(".stdout", has_text="plain out"), page.locator(".stderr", has_text="on stderr")
        color = lambda loc: loc.evaluate("e => getComputedStyle(e).color")
        assert color(out) != color(err), "stderr looks like stdout"
        expect(page.locator(".stdout .fg-2")).to_have_text("green out")
        expect(page.locator(".stdout", has_text="<script>")).to_have_count(1)
        assert page.title() != "pwned" and not dialogs and page.locator("img").count() == 0
        expect(page.locator(".approval pre")).to_have_text("make deploy")
        expect(page.locator(".meta", has_text="approved by")).to_contain_text("ok <b>")
        expect(page.locator(".meta.input")).to_have_text("› typed")
        expect(page.locator(".stdout", has_text="read: typed")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        page.screenshot(path=f"{screenshots}/transcript-{scheme}.png", full_page=True)
