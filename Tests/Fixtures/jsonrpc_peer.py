#!/usr/bin/env python3
"""A JSON-RPC peer for the transport's tests: on start it sends a notification, a line that is not
JSON, a JSON line that is not JSON-RPC, a response to no request, and a request of its own
("peer/ask", id "q-1"); then for each request it reads it answers: "echo" with its params, "fail"
with an error, "exit" by exiting without an answer. It records the answer to "q-1" and reports it
as the notification "peer/answered"."""
import json, sys

def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()

send({"jsonrpc": "2.0", "method": "peer/hello", "params": {"n": 1}})
sys.stdout.write("not json at all\n")
sys.stdout.write('{"just": "an object"}\n')
send({"jsonrpc": "2.0", "id": 999, "result": {}})
send({"jsonrpc": "2.0", "id": "q-1", "method": "peer/ask", "params": {"question": "ok?"}})
for line in sys.stdin:
    msg = json.loads(line)
    if "method" not in msg:
        send({"jsonrpc": "2.0", "method": "peer/answered", "params": msg})
        continue
    if msg["method"] == "echo":
        send({"jsonrpc": "2.0", "method": "peer/before-answer", "params": {}})
        send({"jsonrpc": "2.0", "id": msg["id"], "result": msg["params"]})
    elif msg["method"] == "fail":
        send({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32000, "message": "it failed"}})
    elif msg["method"] == "exit":
        sys.exit(0)
