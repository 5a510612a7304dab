#!/usr/bin/env python3
"""Event committed → line visible on the phone, measured in the browser:

    python3 bench/web-latency.py [LINES]      (after `swift build`; uses .build/debug)

Starts mweb and mexec on a temp database, opens a run in headless Chromium as
an iPhone 13 and runs `echo line i` every 10 ms. The page notes when each line
first appears among the log's rows; the line's event carries `ts` (taken as
the writer's round starts, just before the commit): visible − ts is the figure.
Both clocks are this machine's. Prints p50 / p90 / p99 / max.
"""
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import conftest  # noqa: E402
from webapp import api, paired_page, run_status, wait_for  # noqa: E402

OBSERVE = """() => {
  window.__seen = {};
  new MutationObserver(() => {
    const now = performance.timeOrigin + performance.now();
    for (const row of document.querySelectorAll('.log-row.stdout')) {
      const m = row.textContent.match(/^line (\\d+)$/);
      if (m && !(m[1] in window.__seen)) window.__seen[m[1]] = now;
    }
  }).observe(document.querySelector('.log-rows'), { childList: true, subtree: true });
}"""


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main(lines):
    from playwright.sync_api import sync_playwright
    env, tokens = conftest.new_database()
    web, m = conftest.start([os.path.join(conftest.BIN, "mweb"), "--port", "0"], env, r"listening on (http://[0-9.]+:\d+)")
    exe, _ = conftest.start([os.path.join(conftest.BIN, "mexec")], env)
    url = m.group(1)
    try:
        run = api(url, tokens["steer"], "POST", "/runs", {
            "command": f"sleep 3; for i in $(seq 1 {lines}); do echo line $i; sleep 0.01; done", "title": "latency"}).json()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=conftest.CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(**p.devices["iPhone 13"])
            page = paired_page(context, url, tokens["steer"], f"#/runs/{run['id']}")
            page.locator(".log-rows").wait_for(state="attached")
            page.evaluate(OBSERVE)
            wait_for(lambda: run_status(env, run["id"]) == "succeeded", timeout=60 + lines / 50, message="the run")
            wait_for(lambda: page.evaluate("Object.keys(window.__seen).length") >= lines, message="every line seen")
            seen = page.evaluate("window.__seen")
            browser.close()
        committed = {}
        after = 0
        while True:
            page_ = api(url, tokens["read"], "GET", f"/runs/{run['id']}/events?after={after}&limit=1000").json()
            for e in page_["events"]:
                if e["type"] == "output":
                    ts = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp() * 1000
                    for line in e["data"].get("text", "").splitlines():
                        if line.startswith("line "):
                            committed[line[5:]] = ts
            if not page_["events"]:
                break
            after = page_["next_after"]
        latencies = [seen[k] - committed[k] for k in committed if k in seen]
        print(f"{len(latencies)} lines, event committed → visible in the page (debug build): "
              f"p50 {pct(latencies, .5):.1f}  p90 {pct(latencies, .9):.1f}  p99 {pct(latencies, .99):.1f}  "
              f"max {max(latencies):.1f} ms")
    finally:
        conftest.stop(exe)
        conftest.stop(web)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
