"""Web Push (issue 17) end to end: a real mweb and mexec, a local push endpoint
(http.server on loopback) standing in for the browser's push service, and
independent implementations checking what it receives: `http_ece` decrypts
the RFC 8291 payload with the browser's keys, `py_vapid` verifies the VAPID
JWT. A resolved approval replaces its notification (same tag and Topic); a
410 removes the subscription. The service worker (Chromium) shows a pushed
notification and its click opens the run."""
import base64
import json
import os
import sqlite3
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from py_vapid import jwt as vapid_jwt

from conftest import BIN
from webapp import api, mcli, paired_page, wait_for


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PushEndpoint:
    """A push service on loopback: records each request; paths under /gone/ answer 410, the rest 201."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(410 if self.path.startswith("/gone/") else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def to(self, path):
        return [r for r in self.requests if r["path"] == path]


class Browser:
    """A browser's side of a subscription: its P-256 key pair and auth secret."""

    def __init__(self, endpoint):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.subscription = {"endpoint": endpoint, "expirationTime": None,
                             "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def decrypt(self, body):
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


def test_web_push_is_encrypted_signed_replaced_on_resolve_and_a_410_unsubscribes(m_up):
    url, tokens, env = m_up
    endpoint = PushEndpoint()
    # Web Push is off until an admin turns it on; then the app gets the public key (steer), never the private one.
    assert api(url, tokens["steer"], "GET", "/push/vapid-key").status_code == 404
    notifier = json.loads(mcli(env, "notify", "add", "webpush", "--subject", "mailto:ops@example.org", "--json"))
    assert notifier["events"] == ["approval.requested", "approval.resolved", "run.finished"]
    assert api(url, tokens["read"], "GET", "/push/vapid-key").status_code == 403
    key = api(url, tokens["steer"], "GET", "/push/vapid-key").json()["public_key"]
    assert len(base64.urlsafe_b64decode(key + "==")) == 65
    private = sqlite3.connect(env["M_DB"]).execute("SELECT vapid_private FROM push_keys").fetchone()[0]
    assert private not in json.dumps(api(url, tokens["admin"], "GET", "/notifiers").json())

    phone, gone = Browser(f"{endpoint.url}/push/phone"), Browser(f"{endpoint.url}/gone/old-phone")
    for browser in (phone, gone):
        r = api(url, tokens["steer"], "POST", "/push/subscriptions", browser.subscription)
        assert r.status_code == 201, r.text
        assert "keys" not in r.json() and r.json()["endpoint"] == browser.subscription["endpoint"]
    # Bad subscriptions are refused with what to fix.
    bad = dict(phone.subscription, endpoint="http://push.example.org/x")
    assert api(url, tokens["steer"], "POST", "/push/subscriptions", bad).status_code == 422
    bad = dict(phone.subscription, keys={"p256dh": b64url(b"\x04" + b"1" * 64), "auth": phone.subscription["keys"]["auth"]})
    assert api(url, tokens["steer"], "POST", "/push/subscriptions", bad).status_code == 422
    bad = dict(phone.subscription, keys={"p256dh": phone.subscription["keys"]["p256dh"], "auth": b64url(b"short")})
    assert api(url, tokens["steer"], "POST", "/push/subscriptions", bad).status_code == 422

    run = api(url, tokens["steer"], "POST", "/runs", {"command": "mcli ask 'Deploy now?' && echo yes", "title": "ship it"}).json()
    wait_for(lambda: endpoint.to("/push/phone"), timeout=30, message="the approval's push")
    asked = endpoint.to("/push/phone")[0]
    headers = {k.lower(): v for k, v in asked["headers"].items()}
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["urgency"] == "high" and int(headers["ttl"]) > 0
    message = phone.decrypt(asked["body"])
    approval_id = message["approval_id"]
    assert message["title"] == "Approval needed" and "Deploy now?" in message["body"] and "ship it" in message["body"]
    assert message["tag"] == f"m-approval-{approval_id}" and message["run_id"] == run["id"]
    assert message["url"].endswith(f"/#/runs/{run['id']}")
    # The VAPID JWT verifies with py_vapid against the key the app subscribed with; its claims are RFC 8292's.
    auth = headers["authorization"]
    assert Vapid02.verify(auth)
    token = auth.split("t=", 1)[1].split(",", 1)[0]
    assert auth.split("k=", 1)[1] == key
    claims = vapid_jwt.decode(token, key)
    assert claims["aud"] == endpoint.url and claims["sub"] == "mailto:ops@example.org"
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600

    # Decided elsewhere: a push with the same tag and Topic replaces the request on the phone.
    assert api(url, tokens["steer"], "POST", f"/approvals/{approval_id}", {"decision": "approve"}).status_code == 200
    wait_for(lambda: len(endpoint.to("/push/phone")) >= 3, timeout=30, message="the resolution's and the finish's pushes")
    resolved, finished = endpoint.to("/push/phone")[1:3]
    replaced = phone.decrypt(resolved["body"])
    assert replaced["title"] == "Approval approved" and replaced["tag"] == message["tag"]
    assert {k.lower(): v for k, v in resolved["headers"].items()}["topic"] == headers["topic"]
    done = phone.decrypt(finished["body"])
    assert done["title"] == "Run succeeded" and done["tag"] == f"m-run-{run['id']}"

    # The 410 endpoint was sent the first push once, then forgotten.
    assert len(endpoint.to("/gone/old-phone")) == 1
    db = sqlite3.connect(env["M_DB"])
    assert [e for (e,) in db.execute("SELECT endpoint FROM push_subscriptions")] == [phone.subscription["endpoint"]]
    assert api(url, tokens["steer"], "DELETE", "/push/subscriptions", {"endpoint": phone.subscription["endpoint"]}).status_code == 200
    assert api(url, tokens["steer"], "DELETE", "/push/subscriptions", {"endpoint": phone.subscription["endpoint"]}).status_code == 404


def test_the_service_worker_shows_pushes_replaces_them_by_tag_and_a_click_opens_the_run(mweb, phone):
    url, tokens, env = mweb
    mcli(env, "notify", "add", "webpush", "--subject", "mailto:ops@example.org")
    # No browser subscribed yet: `notify test` says so instead of reporting a delivery to nobody.
    test = subprocess.run([os.path.join(BIN, "mcli"), "notify", "test", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert test.returncode == 1 and "no browser has turned on notifications" in test.stdout, test.stdout + test.stderr
    run = api(url, tokens["steer"], "POST", "/runs", {"command": "true", "title": "pushed run"}).json()
    context = phone()
    context.grant_permissions(["notifications"], origin=url)
    page = paired_page(context, url, tokens["steer"])
    # Web Push is on and the browser has PushManager: the app offers the switch (a tap is needed to subscribe).
    page.locator("#notify").wait_for(state="visible", timeout=15000)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    worker = wait_for(lambda: context.service_workers, message="the service worker")[0]

    # A real push event through DevTools (Chromium cannot subscribe to a local push service).
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    # (the sync API delivers DevTools events only while it is called: wait inside Playwright)
    registration = wait_for(lambda: page.wait_for_timeout(50) or [r for r in registrations if not r.get("isDeleted")],
                            message="the registration")[0]

    def push(message):
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": url, "registrationId": registration["registrationId"],
                                                      "data": json.dumps(message)})

    def shown():
        return page.evaluate("""navigator.serviceWorker.ready.then(r => r.getNotifications())
            .then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))""")

    tag = "m-approval-41"
    push({"type": "approval.requested", "title": "Approval needed", "body": "run 1 asks (command): rm -rf build/",
          "tag": tag, "run_id": run["id"], "approval_id": 41})
    first = wait_for(lambda: shown(), message="the notification")
    assert first == [{"title": "Approval needed", "body": "run 1 asks (command): rm -rf build/", "tag": tag,
                      "data": {"run_id": run["id"]}}]
    # The resolution replaces it (same tag): one notification, saying so.
    push({"type": "approval.resolved", "title": "Approval expired", "body": "run 1: approval 41 expired", "tag": tag,
          "run_id": run["id"], "approval_id": 41})
    wait_for(lambda: [n["title"] for n in shown()] == ["Approval expired"], message="the replaced notification")
    # An unreadable push still shows something (a silent push would cost the subscription on iOS).
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": url, "registrationId": registration["registrationId"],
                                                  "data": "not json"})
    wait_for(lambda: len(shown()) == 2, message="the fallback notification")

    # The click handler opens the run in the open window.
    worker.evaluate("""registration.getNotifications({tag: "m-approval-41"}).then(ns => self.mOpenFromNotification(ns[0]))""")
    wait_for(lambda: page.evaluate("location.hash") == f"#/runs/{run['id']}", message="the run opened")
    page.get_by_text("pushed run").first.wait_for(timeout=10000)
