"""mweb's own TLS (--tls-cert/--tls-key, a self-signed certificate made here with openssl):
the session cookie is `__Host-` and Secure, and the cookie still steers only from M's own origin."""
import http.client
import json
import os
import ssl
import subprocess

import pytest

from conftest import BIN, new_database, start, stop


@pytest.fixture
def mweb_tls(tmp_path):
    """Yields (port, tokens, db path) for a live mweb serving HTTPS with a fresh self-signed certificate."""
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    env, tokens = new_database()
    web, m = start([os.path.join(BIN, "mweb"), "--port", "0", "--tls-cert", cert, "--tls-key", key], env,
                   r"listening on (https://[0-9.]+:(\d+))")
    try:
        yield int(m.group(2)), tokens, env["M_DB"], cert
    finally:
        stop(web)


def request(port, cert, method, path, body=None, headers=None):
    """One HTTPS request, verifying the server against the test's certificate: (status, headers, json)."""
    context = ssl.create_default_context(cafile=cert)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        all_headers = {"Content-Type": "application/json"} if data is not None else {}
        all_headers.update(headers or {})
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        text = response.read().decode()
        return response.status, response.headers, (json.loads(text) if text.startswith("{") else None)
    finally:
        conn.close()


def runs_in(db):
    import sqlite3
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]


def test_over_tls_the_cookie_is_host_prefixed_secure_and_same_origin_only(mweb_tls):
    port, tokens, db, cert = mweb_tls
    origin = f"https://127.0.0.1:{port}"
    status, headers, _ = request(port, cert, "POST", "/api/v1/session", {"token": tokens["steer"]})
    assert status == 200
    set_cookie = headers["Set-Cookie"]
    assert set_cookie.startswith("__Host-m_session="), set_cookie
    attributes = [a.strip().lower() for a in set_cookie.split(";")]
    assert "secure" in attributes and "httponly" in attributes and "path=/" in attributes, set_cookie
    assert not any(a.startswith("domain=") for a in attributes), "a __Host- cookie is host-only"
    cookie = set_cookie.split(";")[0]

    assert request(port, cert, "GET", "/api/v1/session", headers={"Cookie": cookie})[0] == 200
    # The unprefixed name (a sibling host could have set it) is no session over HTTPS.
    shadow = "m_session=" + cookie.split("=", 1)[1]
    assert request(port, cert, "GET", "/api/v1/session", headers={"Cookie": shadow})[0] == 401

    # From another origin, or without JSON, the cookie creates nothing.
    for headers in ({"Cookie": cookie, "Origin": "https://127.0.0.1:9999"},
                    {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
                    {"Cookie": cookie, "Origin": "null"},
                    {"Cookie": cookie, "Sec-Fetch-Site": "same-site"},
                    {"Cookie": cookie}):
        status, _, body = request(port, cert, "POST", "/api/v1/runs", {"command": "echo pwned"}, headers)
        assert status == 403 and body["error"]["code"] == "cross_site", (headers, status, body)
    status, _, _ = request(port, cert, "POST", "/api/v1/runs", b'{"command":"echo pwned"}',
                           {"Cookie": cookie, "Origin": origin, "Content-Type": "text/plain"})
    assert status == 415
    assert runs_in(db) == 0, "nothing was created"

    # M's own page (its https origin) steers with the cookie; a bearer client needs no Origin.
    status, _, run = request(port, cert, "POST", "/api/v1/runs", {"command": "true"}, {"Cookie": cookie, "Origin": origin})
    assert status == 201, run
    status, _, _ = request(port, cert, "POST", "/api/v1/runs", {"command": "true"},
                           {"Authorization": f"Bearer {tokens['steer']}"})
    assert status == 201
    assert runs_in(db) == 2
    page = request(port, cert, "GET", "/")
    assert page[0] == 200 and "frame-ancestors 'none'" in page[1]["Content-Security-Policy"]

