"""The log view (issue 16), its modules run in the browser page: ANSI SGR
styles and colours (16, 256, 24-bit), control sequences dropped, `\\r`
progress bars redrawn in place, stdout and stderr told apart; and a
100,000-line run opens at its tail, scrolls to the top and back, with only
the visible rows in the page (figures printed)."""
import json
import sqlite3
import time

from playwright.sync_api import expect

from webapp import api, paired_page, wait_for

PARSE = """async (chunks) => {
  const { AnsiParser, styleOf } = await import('/ansi.js');
  const p = new AnsiParser();
  return chunks.flatMap(c => p.feed(c)).map(t => t.newline ? '\\n' : t.cr ? '\\r' : [t.text, styleOf(t.style).cls, styleOf(t.style).css]);
}"""


def parse(page, *chunks):
    return page.evaluate(PARSE, list(chunks))


def test_ansi_sgr_colours_and_styles(m_up, phone):
    url, _, _ = m_up
    page = phone().new_page()
    page.goto(url)  # the modules load without a session
    assert parse(page, "plain") == [["plain", "", {}]]
    assert parse(page, "\x1b[31mred\x1b[0m back") == [["red", "fg-1", {}], [" back", "", {}]]
    assert parse(page, "\x1b[1;4;92mbright\x1b[22mnot bold") == [["bright", "fg-10 b u", {}], ["not bold", "fg-10 u", {}]]
    assert parse(page, "\x1b[44;37mbox\x1b[49mx\x1b[39my") == [["box", "fg-7 bg-4", {}], ["x", "fg-7", {}], ["y", "", {}]]
    assert parse(page, "\x1b[38;5;208ma\x1b[48;5;21mb\x1b[38;5;244mc\x1b[38;5;9md") == [
        ["a", "", {"color": "rgb(255,135,0)"}], ["b", "", {"color": "rgb(255,135,0)", "backgroundColor": "rgb(0,0,255)"}],
        ["c", "", {"color": "rgb(128,128,128)", "backgroundColor": "rgb(0,0,255)"}], ["d", "fg-9", {"backgroundColor": "rgb(0,0,255)"}]]
    assert parse(page, "\x1b[38;2;255;100;0mtrue\x1b[48;2;1;2;3m\x1b[3mcolour") == [
        ["true", "", {"color": "#ff6400"}], ["colour", "i", {"color": "#ff6400", "backgroundColor": "#010203"}]]
    assert parse(page, "\x1b[7minv\x1b[27m\x1b[9ms") == [["inv", "fg-inv bg-inv", {}], ["s", "s", {}]]
    assert parse(page, "\x1b[mreset\x1b[2mdim") == [["reset", "", {}], ["dim", "d", {}]]
    # Cursor movement, erase, titles and charsets are dropped, never printed.
    assert parse(page, "a\x1b[2K\x1b[1A\x1b[10;5Hb\x1b]0;title\x07c\x1b]8;;http://x\x1b\\d\x1b(Be\x1b=f\x07g") == [["abcdefg", "", {}]]
    # An escape split across two chunks still works.
    assert parse(page, "x\x1b[3", "2mgreen") == [["x", "", {}], ["green", "fg-2", {}]]
    assert parse(page, "x\x1b", "[1mbold") == [["x", "", {}], ["bold", "b", {}]]
    assert parse(page, "a\r\nb\rc\n") == [["a", "", {}], "\n", ["b", "", {}], "\r", ["c", "", {}], "\n"]


def test_the_log_view_tells_streams_apart_and_redraws_progress_bars(m_up, phone):
    url, _, _ = m_up
    page = phone().new_page()
    page.goto(url)
    result = page.evaluate("""async () => {
      const { LogView } = await import('/logview.js');
      const host = document.createElement('div');
      document.body.append(host);
      const v = new LogView(host);
      v.append('stdout', 'one\\npart');
      v.append('stdout', 'ial\\n\\x1b[31mred');
      v.append('stderr', 'oops\\n');
      v.append('stdout', ' more\\n');
      v.append('stdout', 'progress 10%\\rprogress 50%\\rprogress 100%\\n');
      v.note('› typed');
      await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
      const rows = [...host.querySelectorAll('.log-row')].map(r => [r.className, r.textContent]);
      const text = v.text();
      // A line longer than the box wraps into rows of the box's width, or stays whole when wrapping is off.
      v.append('stdout', 'x'.repeat(1000) + '\\n');
      const wrapped = v.rowLine.length, cols = v.cols;
      v.setWrap(false);
      const whole = v.rowLine.length;
      await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
      const sideways = v.scroller.scrollWidth > v.scroller.clientWidth;
      return { text, rows, red: host.querySelector('.log-row .fg-1')?.textContent, wrapped, whole, cols, sideways,
               pageWidth: document.documentElement.scrollWidth - innerWidth };
    }""")
    assert result["text"] == "one\npartial\nred\noops\n more\nprogress 100%\n› typed"
    assert result["rows"] == [["log-row stdout", "one"], ["log-row stdout", "partial"], ["log-row stdout", "red"],
                              ["log-row stderr", "oops"], ["log-row stdout", " more"], ["log-row stdout", "progress 100%"],
                              ["log-row meta", "› typed"]]
    assert result["red"] == "red"
    assert 30 < result["cols"] < 60, result["cols"]  # an iPhone 13 is 390 px wide
    assert result["wrapped"] == 7 + -(-1000 // result["cols"]) and result["whole"] == 8, result
    assert result["sideways"] and result["pageWidth"] <= 0, "without wrapping the log scrolls sideways, the page does not"


def test_a_100000_line_run_opens_at_its_tail_and_scrolls_to_the_top_and_back(m_up, phone):
    url, tokens, env = m_up
    run = api(url, tokens["steer"], "POST", "/runs", {"command": "true", "title": "long"}).json()
    # Stored as an executor would store it (100 lines an event), without waiting for a process to print it.
    db = sqlite3.connect(env["M_DB"])
    wait_for(lambda: db.execute("SELECT status FROM runs WHERE id=?", (run["id"],)).fetchone()[0] == "succeeded",
             timeout=20, message="the short run to finish")
    seq = db.execute("SELECT last_seq FROM runs WHERE id=?", (run["id"],)).fetchone()[0]
    rows = []
    for chunk in range(1000):
        text = "".join(f"line {chunk * 100 + i + 1} \x1b[3{i % 8}mcoloured\x1b[0m\n" for i in range(100))
        rows.append((run["id"], seq + chunk + 1, "output", json.dumps({"stream": "stdout", "text": text})))
    db.executemany("INSERT INTO events (run_id, seq, type, data) VALUES (?, ?, ?, ?)", rows)
    db.execute("UPDATE runs SET last_seq=? WHERE id=?", (seq + 1000, run["id"]))
    db.commit()

    page = paired_page(phone(), url, tokens["read"])
    started = time.time()
    page.evaluate("r => { location.hash = r; }", f"#/runs/{run['id']}")
    last = page.locator(".log-row", has_text="line 100000 coloured")
    expect(last).to_be_visible(timeout=60000)
    opened = time.time() - started
    in_page = page.locator(".log-row").count()
    assert in_page < 200, f"{in_page} rows in the page: only the visible ones should be"

    started = time.time()
    page.evaluate("document.querySelector('.log-scroll').scrollTop = 0")
    expect(page.locator(".log-row", has_text="line 1 coloured").first).to_be_visible()
    to_top = time.time() - started
    expect(page.locator(".log-jump")).to_be_visible()
    # With the page at its top (the header in view), the button is inside the window, not below the fold.
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator(".log-jump").bounding_box()
    height = page.evaluate("window.innerHeight")
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= height, f"jump to live at {box}, window {height} px high"
    started = time.time()
    page.click(".log-jump")
    expect(last).to_be_visible()
    back = time.time() - started
    expect(page.locator(".log-jump")).to_be_hidden()

    # Find in the log: the line found is scrolled into view and marked.
    page.click("#find-toggle")
    started = time.time()
    page.fill("#find-text", "line 50000 ")
    expect(page.locator("#find-count")).to_have_text("1 of 1")
    expect(page.locator(".log-row.found.current")).to_have_text("line 50000 coloured")
    found = time.time() - started
    expect(page.locator(".log-row.found.current")).to_be_in_viewport()
    page.fill("#find-text", "COLOURED")
    expect(page.locator("#find-count")).to_have_text("100000 of 100000")
    page.click("#find-prev")
    expect(page.locator("#find-count")).to_have_text("99999 of 100000")
    expect(page.locator(".log-row.found.current")).to_have_text("line 99999 coloured")
    page.fill("#find-text", "no such text")
    expect(page.locator("#find-count")).to_have_text("not found")
    print(f"\n100,000 lines: tail visible {opened * 1000:.0f} ms after opening the run; "
          f"top {to_top * 1000:.0f} ms, back to live {back * 1000:.0f} ms; {in_page} rows in the page; "
          f"found a line in {found * 1000:.0f} ms")
