"""Pairing (issue 16): the link `URL/#token=SECRET` signs a phone in through the
session cookie and leaves the address bar; sign out; a session that ended
(its token revoked) and a link that does not work say so."""
import json

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from webapp import mcli


def test_pairing_link_signs_in_removes_the_fragment_and_sign_out_ends_it(m_up, phone):
    url, tokens, _ = m_up
    page = phone().new_page()
    page.goto(f"{url}/#token={tokens['steer']}")
    expect(page.locator("#list")).to_be_visible(timeout=15000)
    assert "#token" not in page.url and tokens["steer"] not in page.url, page.url
    cookies = page.context.cookies()
    assert any(c["name"] == "m_session" and c["httpOnly"] and c["sameSite"] == "Strict" for c in cookies), cookies
    expect(page.locator("#who")).to_have_text("steer · steer")
    # The cookie alone keeps the phone signed in.
    page.reload()
    expect(page.locator("#list")).to_be_visible(timeout=10000)

    page.click("#signout")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("Signed out")
    assert not any(c["name"] == "m_session" and c["value"] for c in page.context.cookies())
    page.reload()
    expect(page.locator("#login")).to_be_visible(timeout=10000)

    # A pasted token works too.
    page.fill("#token", tokens["read"])
    page.click("#login-form button")
    expect(page.locator("#who")).to_have_text("read · read", timeout=10000)


def test_a_revoked_token_ends_the_session_with_a_clear_message(m_up, phone):
    url, _, env = m_up
    secret = json.loads(mcli(env, "token", "create", "--name", "phone", "--scope", "steer", "--json"))["token"]
    page = phone().new_page()
    page.goto(f"{url}/#token={secret}")
    expect(page.locator("#list")).to_be_visible(timeout=15000)
    mcli(env, "token", "revoke", "phone")
    # The next thing the phone asks for is refused, and it says why (no reload). The live
    # stream may find out first and sign the page out before the click lands: either way
    # the page must end on the sign-in screen with the reason.
    try:
        page.click("#new-run-link", timeout=3000)
    except PlaywrightTimeoutError:
        pass
    expect(page.locator("#login")).to_be_visible(timeout=10000)
    expect(page.locator("#login-error")).to_contain_text("session has ended")
    expect(page.locator("#login-error")).to_contain_text("revoked")
    page.reload()
    expect(page.locator("#login-error")).to_contain_text("session has ended", timeout=10000)

    # The same link again is refused, and the page says why.
    page.goto(f"{url}/?again#token={secret}")
    expect(page.locator("#login-error")).to_contain_text("did not sign you in", timeout=10000)
    assert "#token" not in page.url
