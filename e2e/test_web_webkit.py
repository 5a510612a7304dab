"""iPhones run WebKit, not Chromium (issue 16): a smoke of the screens in
Debian's WebKitGTK MiniBrowser driven by Selenium under Xvfb, so Safari-only
breakage shows up here first: pairing, the list, a run's live log with
stderr told apart and ANSI colours, the ANSI module itself, approving a
command with a tap, the new-run form."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from webapp import api, run_status, wait_for
from test_web_diff import make_repo
from webkit_smoke import MINIBROWSER

HERE = os.path.dirname(os.path.abspath(__file__))


def webkit_missing():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    if not (shutil.which("WebKitWebDriver") and shutil.which("xvfb-run") and os.path.exists(MINIBROWSER)):
        return "webkit2gtk-driver and xvfb are not installed"
    return None


@pytest.mark.skipif(webkit_missing() is not None, reason=str(webkit_missing()))
def test_the_app_works_in_webkit(m_up, screenshots, tmp_path):
    url, tokens, env = m_up
    run = api(url, tokens["steer"], "POST", "/runs", {
        "command": "printf 'out\\n'; printf 'err\\n' >&2; printf '\\033[31mred\\033[0m\\n'", "title": "webkit run"}).json()
    asking = api(url, tokens["steer"], "POST", "/runs", {
        "command": "mcli ask --kind command 'ls -la' && echo 'approved, going on'", "title": "asks"}).json()
    question = api(url, tokens["steer"], "POST", "/runs", {
        "command": "mcli ask --kind question 'Which branch?'", "title": "question"}).json()
    make_repo(tmp_path / "repo")
    diff = api(url, tokens["steer"], "POST", "/runs", {
        "command": "echo new > added.txt; printf 'one\\n' > a.txt; mcli propose --message 'webkit change'",
        "title": "proposes", "repo": {"url": str(tmp_path / "repo")}}).json()
    wait_for(lambda: run_status(env, run["id"]) == "succeeded", timeout=20, message="the run to finish")
    wait_for(lambda: api(url, tokens["read"], "GET", "/search?q=red").json()["hits"], timeout=20, message="the search index")
    more = {"question": question["id"], "diff": diff["id"], "search": "red"}
    r = subprocess.run(["xvfb-run", "-a", sys.executable, os.path.join(HERE, "webkit_smoke.py"), url, tokens["steer"],
                        str(run["id"]), str(asking["id"]), screenshots, json.dumps(more)],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "AppleWebKit" in out["agent"] and out["service_worker"]
    assert out["list"] and "webkit run" in out["list"], out
    assert "#token" not in out["url"]
    rows = {text: (cls, color) for cls, text, color in out["rows"]}
    assert rows["out"][0] == "log-row stdout" and rows["err"][0] == "log-row stderr"
    assert rows["out"][1] != rows["err"][1], "stderr looks like stdout in WebKit"
    assert out["red_class"] == "red"
    assert "succeeded" in out["status"] and out["sideways"] <= 0
    assert out["ansi"] == [["a", "", {}], ["b", "fg-1 b", {}], ["c", "b", {"color": "rgb(255,135,0)"}],
                           ["de", "b", {"color": "#010203"}], "NL"], out["ansi"]
    assert out["agents"] == ["command"]
    assert out["command"] == "ls -la" and out["after_approval"], out
    wait_for(lambda: run_status(env, asking["id"]) == "succeeded", timeout=20, message="the approved run to finish")
    assert out["question"] == "Which branch?", out
    assert out["diff_files"] == ["a.txt", "added.txt"], out
    assert out["search_marks"] == ["red"] and out["search_line"] == "red", out
    assert "Signed out" in out["signed_out"], out
