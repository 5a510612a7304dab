"""The diff viewer (issue 16): a run that proposes its changes gets a diff
approval whose card lists the right files with their status and counts
(added, modified, deleted, renamed, mode change, binary) and each file's
lines with old/new numbers; approving commits them; a truncated diff says so."""
import subprocess

from playwright.sync_api import expect

from webapp import full_page_shot, api, log_lines, paired_page, wait_for

CHANGES = ("printf 'one\\n2\\nthree\\nfour\\n' > a.txt; rm gone.txt; git mv moved.txt 'caf\u00e9.txt'; chmod +x run.sh; "
           "printf '\\000\\002' > bin.dat; echo new > added.txt; "
           "mcli propose --message 'web change'; echo \"propose exit $?\"")


def make_repo(folder):
    run = lambda *a: subprocess.run(["git", "-C", str(folder), *a], check=True, capture_output=True)
    folder.mkdir()
    run("init", "-q", "-b", "main")
    (folder / "a.txt").write_text("one\ntwo\nthree\n")
    (folder / "gone.txt").write_text("old\n")
    (folder / "moved.txt").write_text("keep\n")
    (folder / "run.sh").write_text("#!/bin/sh\n")
    (folder / "bin.dat").write_bytes(b"\x00\x01")
    run("add", "-A")
    run("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "base")


def test_a_proposed_diff_is_shown_file_by_file_and_approving_commits_it(m_up, phone, tmp_path, screenshots):
    url, tokens, _ = m_up
    make_repo(tmp_path / "repo")
    run = api(url, tokens["steer"], "POST", "/runs",
              {"command": CHANGES, "title": "proposes", "repo": {"url": str(tmp_path / "repo")}}).json()
    page = paired_page(phone(), url, tokens["steer"], f"#/runs/{run['id']}")
    card = page.locator(".approval.pending.kind-diff")
    expect(card.locator(".diff-file")).to_have_count(6, timeout=30000)
    files = {f.get_attribute("data-path"): f for f in card.locator(".diff-file").all()}
    assert set(files) == {"a.txt", "added.txt", "gone.txt", "caf\u00e9.txt", "run.sh", "bin.dat"}, set(files)
    status = lambda p: files[p].get_attribute("data-status")
    assert [status(p) for p in ("a.txt", "added.txt", "gone.txt", "caf\u00e9.txt", "bin.dat")] == \
        ["modified", "added", "deleted", "renamed", "modified"]
    expect(files["caf\u00e9.txt"].locator(".diff-path")).to_have_text("moved.txt → caf\u00e9.txt")
    expect(files["a.txt"].locator(".diff-counts")).to_have_text("+2 −1")
    expect(files["bin.dat"].locator(".diff-binary")).to_have_text("binary")
    expect(files["bin.dat"]).to_contain_text("Binary file")
    expect(files["run.sh"]).to_contain_text("mode 100644 → 100755")
    expect(card.locator(".diff-summary")).to_have_text("6 files +3 −2")
    expect(page.locator("#diffs")).to_be_hidden()  # shown in its card, not twice
    rows = files["a.txt"].locator(".dl").evaluate_all(
        "rs => rs.map(r => [r.className.split(' ')[1], ...[...r.children].map(c => c.textContent)])")
    assert rows == [["hunk", "", "", "@@ -1,3 +1,4 @@"], ["ctx", "1", "1", " one"], ["del", "2", "", "−two"],
                    ["add", "", "2", "+2"], ["ctx", "3", "3", " three"], ["add", "", "4", "+four"]], rows
    # Readable at 390 px: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    full_page_shot(page, f"{screenshots}/diff-approval-light.png")
    dark = paired_page(phone(color_scheme="dark"), url, tokens["steer"], f"#/runs/{run['id']}")
    expect(dark.locator(".approval.pending .diff-file")).to_have_count(6, timeout=15000)
    assert dark.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    full_page_shot(dark, f"{screenshots}/diff-approval-dark.png")

    card.locator("button.ok").click()
    wait_for(lambda: "propose exit 0" in log_lines(page), timeout=30, message="mcli propose to exit 0 (applied)")
    expect(page.locator("#diffs")).to_be_hidden()
    workspace = api(url, tokens["read"], "GET", f"/runs/{run['id']}").json()["workspace"]
    subject = subprocess.run(["git", "-C", workspace, "log", "-1", "--format=%s", "refs/m/approved"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert subject == "web change"
    expect(page.locator("#run-status")).to_contain_text("succeeded", timeout=15000)


def test_a_truncated_diff_says_so_and_lists_every_file(m_up, phone):
    url, _, _ = m_up
    page = phone().new_page()
    page.goto(url)
    result = page.evaluate("""async () => {
      const { diffView } = await import('/diffview.js');
      const patch = 'diff --git a/big.txt b/big.txt\\n--- a/big.txt\\n+++ b/big.txt\\n@@ -1 +1,2 @@\\n-a\\n+b\\n+c\\n' +
                    '# M: patch truncated: showing 80 of 9000 bytes; the file list is complete\\n';
      const view = diffView({ additions: 12, deletions: 1, truncated: true, patch, files: [
        { path: 'big.txt', status: 'modified', binary: false, additions: 2, deletions: 1 },
        { path: 'later.txt', status: 'added', binary: false, additions: 10, deletions: 0 }] });
      document.body.append(view);
      return { notice: view.querySelector('.diff-truncated')?.textContent,
               files: [...view.querySelectorAll('.diff-file')].map(f => [f.dataset.path, f.querySelectorAll('.dl').length, f.querySelector('.diff-note')?.textContent ?? '']) };
    }""")
    assert "cut short" in result["notice"]
    assert result["files"] == [["big.txt", 4, ""], ["later.txt", 0, "Not in the patch shown (it was cut short)."]]


def test_a_diff_of_the_workspace_can_be_requested_from_the_run(m_up, phone, tmp_path):
    url, tokens, _ = m_up
    make_repo(tmp_path / "repo")
    run = api(url, tokens["steer"], "POST", "/runs", {"command": "echo changed > a.txt; echo ready; sleep 60",
                                                     "title": "edits", "repo": {"url": str(tmp_path / "repo")}}).json()
    page = paired_page(phone(), url, tokens["steer"], f"#/runs/{run['id']}")
    wait_for(lambda: "ready" in log_lines(page), timeout=20, message="the edit")
    page.click("#request-diff")
    expect(page.locator("#diffs .diff-file")).to_have_count(1, timeout=15000)
    expect(page.locator("#diffs .diff-file")).to_have_attribute("data-path", "a.txt")
    expect(page.locator("#diffs .diff-counts")).to_have_text("+1 −3")
    assert any(line.startswith("± diff #") and "1 file +1 −3" in line for line in log_lines(page, "meta"))
