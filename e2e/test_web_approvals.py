"""Approvals on the phone (issue 16): a command approval shows the command
verbatim, approving lets the run continue; a question's answer reaches the
agent; a decision made on one phone removes the card from another within a
second; a decision someone else made first shows "already decided" (the 409);
cancel asks for confirmation."""
import sqlite3
import time

from playwright.sync_api import expect

from webapp import log_lines, paired_page, run_status, wait_for, api

SCRIPT = ("echo start; mcli ask --kind command 'rm -rf build/' && echo continued; "
          "answer=$(mcli ask --kind question 'Which branch?'); echo \"answer is $answer\"; "
          "mcli ask 'Deploy now?'; echo asked-deploy; sleep 300")


def test_approvals_on_two_phones_question_conflict_and_cancel(m_up, phone):
    url, tokens, env = m_up
    run = api(url, tokens["steer"], "POST", "/runs", {"command": SCRIPT, "title": "needs approval"}).json()
    a = paired_page(phone(), url, tokens["steer"], f"#/runs/{run['id']}")
    b = paired_page(phone(), url, tokens["admin"], f"#/runs/{run['id']}")
    listing = paired_page(phone(), url, tokens["read"])

    card_a, card_b = a.locator(".approval.pending"), b.locator(".approval.pending")
    expect(card_a).to_have_count(1, timeout=15000)
    expect(card_a.locator(".approval-command")).to_have_text("rm -rf build/")
    expect(card_b).to_have_count(1, timeout=5000)
    # The list puts the waiting run on top, with a count in the badge and the title.
    expect(listing.locator("#waiting-count")).to_have_text("1", timeout=5000)
    expect(listing).to_have_title("(1) M")
    expect(listing.locator(".approval.pending .approval-command")).to_have_text("rm -rf build/")
    expect(listing.locator("#runs li").first).to_have_attribute("data-status", "waiting_approval")
    assert "continued" not in log_lines(a)

    first = card_a.get_attribute("data-approval")
    card_a.locator("button.ok").click()
    started = time.time()
    # (the run goes on to its next question at once: look for this approval's card)
    expect(b.locator(f"[data-approval='{first}']")).to_have_count(0, timeout=1000)
    print(f"\ncard gone on the other phone after {(time.time() - started) * 1000:.0f} ms")
    expect(listing.locator(f"[data-approval='{first}']")).to_have_count(0, timeout=1000)
    wait_for(lambda: "continued" in log_lines(a), message="the run continued after the approval")
    assert any(l.startswith("✓ approved by web:steer") for l in log_lines(b, "meta"))

    # A question: the typed answer is what the agent prints.
    expect(card_b).to_have_count(1, timeout=15000)
    expect(card_b.locator(".approval-title")).to_have_text("Which branch?")
    card_b.locator("button.ok").click()
    expect(card_b.locator(".approval-msg")).to_contain_text("Type an answer first")
    card_b.locator("textarea").fill("release/1.2")
    card_b.locator("button.ok").click()
    wait_for(lambda: "answer is release/1.2" in log_lines(a), message="the agent printed the answer")

    # Someone decides first, and this phone has not heard yet: its tap gets a clear "already decided".
    expect(card_a).to_have_count(1, timeout=15000)
    approval_id = card_a.get_attribute("data-approval")
    db = sqlite3.connect(env["M_DB"])
    db.execute("UPDATE approvals SET status='approved', resolved_by='elsewhere' WHERE id=?", (approval_id,))
    db.commit()
    card_a.locator("button.ok").click()
    expect(a.locator(".approval.conflict .approval-msg")).to_contain_text("Already decided")
    a.locator(".approval.conflict button.link").click()
    expect(a.locator(".approval")).to_have_count(0)

    # Cancel asks first; "keep running" keeps it running.
    a.click("#cancel")
    expect(a.locator("#cancel-confirm")).to_be_visible()
    a.click("#cancel-no")
    expect(a.locator("#cancel-confirm")).to_be_hidden()
    assert run_status(env, run["id"]) in ("running", "waiting_approval")
    a.click("#cancel")
    a.click("#cancel-yes")
    expect(a.locator("#run-status")).to_contain_text("canceled", timeout=20000)
    expect(listing.locator(f"#runs li[data-id='{run['id']}']")).to_have_attribute("data-status", "canceled", timeout=5000)


def test_an_approval_with_an_expiry_counts_down_and_goes_when_it_expires(m_up, phone):
    url, tokens, _ = m_up
    run = api(url, tokens["steer"], "POST", "/runs",
              {"command": "mcli ask --timeout 4 'Quick?'; echo \"ask exit $?\"", "title": "expires"}).json()
    page = paired_page(phone(), url, tokens["steer"], f"#/runs/{run['id']}")
    listing = paired_page(phone(), url, tokens["read"])
    card = page.locator(".approval.pending")
    expect(card.locator(".approval-expiry")).to_contain_text("Expires in", timeout=15000)
    expect(listing.locator(".approval.pending .approval-expiry")).to_contain_text("Expires in", timeout=5000)
    expect(card).to_have_count(0, timeout=15000)
    wait_for(lambda: "ask exit 1" in log_lines(page), message="the expired ask to exit 1")
    assert any(line.startswith("✕ expired by system") for line in log_lines(page, "meta")), log_lines(page, "meta")
    expect(listing.locator(".approval.pending")).to_have_count(0, timeout=5000)
