"""Search across every run (issue 16): the list screen's box finds text in
any run's output through GET /api/v1/search (the FTS5 index mweb fills behind
the output path), shows each hit with its matches marked, and a tap opens the
run at that line, scrolled to and marked, not at the tail."""
from playwright.sync_api import expect

from webapp import api, full_page_shot, paired_page, run_status, wait_for

NEEDLE_RUN = ("i=0; while [ $i -lt 400 ]; do echo \"build step $i\"; i=$((i+1)); done; "
              # On stdout like the lines around it: two pipes are read apart, so a stderr line's place among stdout's is not fixed.
              "printf '\\033[31mfatal: could not read Username for github\\033[0m\\n'; "
              "i=0; while [ $i -lt 400 ]; do echo \"cleanup $i\"; i=$((i+1)); done")


def test_search_finds_a_line_in_any_run_and_opens_the_run_there(m_up, phone, screenshots):
    url, tokens, env = m_up
    other = api(url, tokens["steer"], "POST", "/runs", {"command": "echo nothing to see; echo 中文 宽字符 😀 ok", "title": "quiet"}).json()
    run = api(url, tokens["steer"], "POST", "/runs", {"command": NEEDLE_RUN, "title": "clone the repo"}).json()
    for r in (other, run):
        wait_for(lambda: run_status(env, r["id"]) == "succeeded", timeout=30, message="the runs to finish")
    # The index follows the output path: the API finds the line once it caught up.
    hits = wait_for(lambda: api(url, tokens["read"], "GET", "/search?q=could%20not%20read").json()["hits"],
                    timeout=20, message="the index to hold the line")
    assert [(h["run_id"], h["snippet"]) for h in hits] == [(run["id"], "fatal: could not read Username for github")]

    for scheme in ("light", "dark"):
        page = paired_page(phone(color_scheme=scheme), url, tokens["read"])
        expect(page.locator("#runs li")).to_have_count(2)
        page.fill("#search-text", "COULD not rea")
        page.press("#search-text", "Enter")
        hit = page.locator("#search-hits li")
        expect(hit).to_have_count(1)
        expect(hit).to_contain_text("clone the repo")
        assert hit.locator("mark").all_inner_texts() == ["could", "not", "read"], "the matched words are marked"
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        full_page_shot(page, f"{screenshots}/search-{scheme}.png")

    # A tap opens the run at that line: marked and in view, the tail not followed.
    hit.locator("a").click()
    expect(page.locator("#run-title")).to_have_text("clone the repo")
    marked = page.locator(".log-row.found.current")
    expect(marked).to_contain_text("fatal: could not read Username", timeout=10000)
    expect(marked).to_be_in_viewport()
    expect(page.locator(".log-row", has_text="cleanup 399")).to_have_count(0)  # far below: not rendered
    expect(page.locator(".log-jump")).to_be_visible()
    page.screenshot(path=f"{screenshots}/search-hit-dark.png")

    # Typed text is never query syntax; nothing found is said plainly.
    page.evaluate("location.hash = '#/'")
    for typed in ['"unbalanced', "NEAR(", "a OR", "*"]:
        page.fill("#search-text", typed)
        page.press("#search-text", "Enter")
        expect(page.locator("#search-status")).to_contain_text("Nothing found")
    page.fill("#search-text", "宽字符")
    page.press("#search-text", "Enter")
    expect(page.locator("#search-hits li")).to_have_count(1)
    expect(page.locator("#search-hits li")).to_contain_text("quiet")


def test_wide_characters_wrap_by_columns_without_garbling_rows(m_up, phone, screenshots):
    url, tokens, env = m_up
    line = "宽" * 60 + "😀" * 30 + "end"
    run = api(url, tokens["steer"], "POST", "/runs", {"command": f"echo '{line}'", "title": "wide"}).json()
    wait_for(lambda: run_status(env, run["id"]) == "succeeded", timeout=30, message="the run to finish")
    page = paired_page(phone(), url, tokens["read"], f"#/runs/{run['id']}")
    expect(page.locator(".log-row.stdout").first).to_be_visible(timeout=10000)
    rows = page.evaluate("""() => [...document.querySelectorAll('.log-row.stdout')].map(r => ({
        text: r.textContent, over: r.scrollWidth - r.parentElement.clientWidth }))""")
    assert "".join(r["text"] for r in rows) == line, "no character lost or split"
    assert all("\ufffd" not in r["text"] for r in rows), "a surrogate pair was split"
    assert len(rows) >= 4, rows
    assert max(r["over"] for r in rows) <= 2, f"a row is wider than the log: {rows}"
    page.screenshot(path=f"{screenshots}/log-wide-light.png")
