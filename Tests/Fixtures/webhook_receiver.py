#!/usr/bin/env python3
"""A webhook receiver for M's push tests: a real HTTP server on loopback.

Prints `listening PORT` once serving. Appends one JSON line per request to
--log: the headers, the raw body, whether the signature verified (Python's
own hmac, independent of M's), and the status it answered. --fail-first N
answers 503 to the first N requests; --hold-first never answers the first
request (a sender killed mid-delivery).
"""
import argparse, hashlib, hmac, json, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The test process may hand down SIGTERM ignored or blocked: stop on it as usual.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
signal.signal(signal.SIGTERM, signal.SIG_DFL)
parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
parser.add_argument("--secret", default="")
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--hold-first", action="store_true")
args = parser.parse_args()
lock = threading.Lock()
count = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            count += 1
            n = count
        status = 503 if n <= args.fail_first else 200
        held = args.hold_first and n == 1
        signature = self.headers.get("X-M-Signature-256")
        expected = "sha256=" + hmac.new(args.secret.encode(), body, hashlib.sha256).hexdigest() if args.secret else None
        record = {
            "n": n, "path": self.path, "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"), "signature_ok": signature is not None and expected is not None
            and hmac.compare_digest(signature, expected), "status": "held" if held else status,
        }
        with lock, open(args.log, "a") as f:
            f.write(json.dumps(record) + "\n")
        if held:
            time.sleep(600)
            return
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
