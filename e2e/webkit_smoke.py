"""Driven by test_web_webkit.py under xvfb-run: M's web app in WebKit (Safari's
engine: Debian's MiniBrowser through WebKitWebDriver). Prints one JSON object
with what each screen showed; the test asserts on it."""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.webkitgtk.options import Options

MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"


def wait(driver, script, timeout=20):
    """Polls a script until it answers something truthy (answers it) or the deadline passes (answers the last value)."""
    deadline = time.time() + timeout
    while True:
        value = driver.execute_script(script)
        if value or time.time() > deadline:
            return value
        time.sleep(0.1)


def settle(driver):
    """Waits for fonts and two frames, so a screenshot shows what is on the page now."""
    driver.execute_async_script("""const done = arguments[arguments.length - 1];
        document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));""")


def main(url, token, run_id, asking_id, folder, more="{}"):
    more = json.loads(more)
    options = Options()
    options.binary_location = MINIBROWSER
    options.add_argument("--automation")
    driver = webdriver.WebKitGTK(options=options)
    out = {}
    try:
        driver.set_window_size(390, 844)
        driver.get(f"{url}/#token={token}")
        out["list"] = wait(driver, """return document.querySelector('#list[data-loaded]') && document.querySelector('#runs li')
            && document.querySelector('#runs').innerText""")
        settle(driver)
        out["url"] = driver.current_url
        out["agent"] = driver.execute_script("return navigator.userAgent")
        out["service_worker"] = driver.execute_script("return 'serviceWorker' in navigator")
        driver.save_screenshot(f"{folder}/webkit-runs.png")
        driver.get(f"{url}/#/runs/{run_id}")
        out["rows"] = wait(driver, """const rows = [...document.querySelectorAll('.log-row')];
            return rows.some(r => r.textContent === 'err') && rows.some(r => r.textContent === 'red') &&
                   rows.map(r => [r.className, r.textContent, getComputedStyle(r).color])""")
        out["red_class"] = driver.execute_script("return document.querySelector('.log-row .fg-1')?.textContent")
        out["status"] = wait(driver, "const s = document.querySelector('#run-status').innerText; return s.includes('succeeded') && s")
        out["sideways"] = driver.execute_script("return document.documentElement.scrollWidth - innerWidth")
        settle(driver)
        driver.save_screenshot(f"{folder}/webkit-run.png")
        out["ansi"] = driver.execute_async_script("""const done = arguments[arguments.length - 1];
            import('/ansi.js').then(({ AnsiParser, styleOf }) => {
              const p = new AnsiParser();
              done([...p.feed('a\\x1b[1;3'), ...p.feed('1mb\\x1b[38;5;208mc\\x1b[38;2;1;2;3md\\x1b[2Ke\\r\\n')]
                .map(t => t.newline ? 'NL' : t.cr ? 'CR' : [t.text, styleOf(t.style).cls, styleOf(t.style).css]));
            }, (e) => done(String(e)));""")
        # An approval card, decided with a tap.
        driver.get(f"{url}/#/runs/{asking_id}")
        out["command"] = wait(driver, "return document.querySelector('.approval.pending .approval-command')?.textContent")
        settle(driver)
        driver.save_screenshot(f"{folder}/webkit-approval.png")
        driver.execute_script("document.querySelector('.approval.pending button.ok').click()")
        out["after_approval"] = wait(driver, """return !document.querySelector('.approval.pending') &&
            document.querySelector('#log').logView.lines.some(l => l.segs.map(s => s.text).join('') === 'approved, going on')""")
        driver.get(f"{url}/#/new")
        out["agents"] = wait(driver, "const os = [...document.querySelectorAll('#new-agent option')]; return os.length && os.map(o => o.value)")
        settle(driver)
        driver.save_screenshot(f"{folder}/webkit-new-run.png")
        if "question" in more:
            driver.get(f"{url}/#/runs/{more['question']}")
            out["question"] = wait(driver, "return document.querySelector('.approval.pending.kind-question textarea') && document.querySelector('.approval.pending .approval-title')?.textContent")
            settle(driver)
            driver.save_screenshot(f"{folder}/webkit-question.png")
        if "diff" in more:
            driver.get(f"{url}/#/runs/{more['diff']}")
            out["diff_files"] = wait(driver, """const fs = [...document.querySelectorAll('.approval.pending.kind-diff .diff-file')];
                return fs.length && fs.map(f => f.dataset.path).sort()""", timeout=40)
            settle(driver)
            driver.save_screenshot(f"{folder}/webkit-diff.png")
        if "search" in more:
            driver.get(f"{url}/#/")
            wait(driver, "return document.querySelector('#list[data-loaded]')")
            driver.execute_script("""const t = document.querySelector('#search-text'); t.value = arguments[0];
                document.querySelector('#search-form').requestSubmit();""", more["search"])
            out["search_marks"] = wait(driver, "const ms = [...document.querySelectorAll('#search-hits mark')]; return ms.length && ms.map(m => m.textContent)")
            settle(driver)
            driver.save_screenshot(f"{folder}/webkit-search.png")
            driver.execute_script("document.querySelector('#search-hits a').click()")
            out["search_line"] = wait(driver, "return document.querySelector('.log-row.found.current')?.textContent")
        driver.get(f"{url}/#/")
        wait(driver, "return document.querySelector('#list[data-loaded]')")
        driver.execute_script("document.querySelector('#signout').click()")
        out["signed_out"] = wait(driver, "return document.querySelector('#login') && document.body.innerText")
        settle(driver)
        driver.save_screenshot(f"{folder}/webkit-signin.png")
    finally:
        driver.quit()
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
