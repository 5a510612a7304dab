"""The installable shell (issue 16): manifest, apple-touch-icon, a service
worker that caches the app shell and never the API; and every screen in light
and dark mode, without horizontal scrolling from 320 to 430 px, written as
screenshots for a person to look at."""
import os

import requests
from playwright.sync_api import expect

from webapp import full_page_shot, api, paired_page, wait_for

SCREENS_SCRIPT = ("printf 'building \\033[1;32mok\\033[0m\\n'; printf 'warning: \\033[33mslow disk\\033[0m\\n' >&2; "
                  "printf '\\033[38;5;208m256 colours\\033[0m \\033[38;2;120;200;255mtrue colour\\033[0m\\n'; "
                  "mcli ask --kind command 'git push origin main'; sleep 300")


def test_manifest_icons_and_a_service_worker_that_caches_only_the_shell(m_up, phone):
    url, tokens, _ = m_up
    manifest = requests.get(f"{url}/manifest.webmanifest", timeout=10)
    assert manifest.headers["Content-Type"].startswith("application/manifest+json")
    m = manifest.json()
    assert m["display"] == "standalone" and m["start_url"] == "/" and m["theme_color"]
    sizes = {i["sizes"] for i in m["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in m["icons"]:
        r = requests.get(url + icon["src"], timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"] == icon["type"], icon
        if icon["type"] == "image/png":
            assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
            w, h = int.from_bytes(r.content[16:20], "big"), int.from_bytes(r.content[20:24], "big")
            assert f"{w}x{h}" == icon["sizes"]
    page = paired_page(phone(), url, tokens["steer"])
    assert page.eval_on_selector("link[rel=apple-touch-icon]", "l => l.href").endswith("/icon-180.png")
    assert page.eval_on_selector("link[rel=manifest]", "l => l.href").endswith("/manifest.webmanifest")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{url}/"
    page.reload()  # now under the worker's control
    expect(page.locator("#list")).to_be_visible(timeout=10000)
    wait_for(lambda: page.evaluate("!!navigator.serviceWorker.controller"), message="the page under the service worker")
    cached = page.evaluate("caches.open('m-shell-v1').then(c => c.keys()).then(ks => ks.map(k => new URL(k.url).pathname))")
    public = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Sources", "mweb", "Public")
    shell = {"/" + f for f in os.listdir(public) if f.endswith((".js", ".css", ".webmanifest")) and f != "sw.js"}
    assert {"/"} | shell <= set(cached), f"not cached for offline use: {({'/'} | shell) - set(cached)}"
    assert not [p for p in cached if p.startswith("/api/")], cached
    # Offline, the shell still opens (and says it cannot reach M).
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("header.top .brand")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("cannot be reached", timeout=10000)
    cached = page.evaluate("caches.open('m-shell-v1').then(c => c.keys()).then(ks => ks.map(k => new URL(k.url).pathname))")
    assert not [p for p in cached if p.startswith("/api/")], cached
    page.context.set_offline(False)


def test_every_screen_in_light_and_dark_fits_320_to_430_px(m_up, phone, screenshots):
    url, tokens, _ = m_up
    api(url, tokens["steer"], "POST", "/runs", {"command": "echo done", "title": "a finished run"})
    api(url, tokens["steer"], "POST", "/runs", {"command": "exit 2", "title": "a failing run with a long title that must not widen the page"})
    run = api(url, tokens["steer"], "POST", "/runs", {"command": SCREENS_SCRIPT, "title": "deploy the app"}).json()
    for scheme in ("light", "dark"):
        context = phone(color_scheme=scheme)
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#login")).to_be_visible(timeout=10000)
        shoot(page, screenshots, f"login-{scheme}")
        page.goto(f"{url}/#token={tokens['steer']}")
        expect(page.locator(".approval.pending")).to_have_count(1, timeout=20000)
        expect(page.locator("#runs li[data-status=failed]")).to_have_count(1, timeout=10000)
        shoot(page, screenshots, f"runs-{scheme}")
        page.evaluate("r => { location.hash = r; }", f"#/runs/{run['id']}")
        expect(page.locator(".log-row", has_text="true colour")).to_be_visible(timeout=10000)
        expect(page.locator("#run .approval.pending")).to_have_count(1, timeout=10000)
        shoot(page, screenshots, f"run-{scheme}")
        page.click("#cancel")
        shoot(page, screenshots, f"run-cancel-confirm-{scheme}")
        page.click("#cancel-no")
        page.evaluate("r => { location.hash = r; }", "#/new")
        expect(page.locator("#new-command")).to_be_visible()
        page.click("#new-repo-box summary")
        page.fill("#new-repo", "-bad")
        page.fill("#new-command", "make test")
        page.click("#new-submit")
        expect(page.locator("#new-error")).to_contain_text("Not started")
        shoot(page, screenshots, f"new-run-{scheme}")


def shoot(page, folder, name):
    """Checks that nothing scrolls sideways at 320, 390 and 430 px, and writes a screenshot at 390."""
    for width in (320, 430, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
    full_page_shot(page, os.path.join(folder, f"{name}.png"))
