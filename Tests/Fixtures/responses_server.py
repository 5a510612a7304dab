#!/usr/bin/env python3
"""A scripted OpenAI Responses API on loopback, for running the real Codex CLI offline.

Prints "listening on http://127.0.0.1:PORT" once serving (port 0 picks a free one); every request's
JSON body is appended to --log. What it answers, by the conversation's last input item:
  a tool's output (function_call_output / custom_tool_call_output) -> "tool said: <output>"
  user text "run CMD"     -> an exec_command call of CMD asking for escalated permissions (an approval)
  user text "patch NAME"  -> an apply_patch call adding the file NAME with "patched"
  any other user text     -> "echo: <text>"
Answers stream as server-sent events.
"""
import argparse, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--log", required=True)
args = parser.parse_args()
lock = threading.Lock()
counter = [0]


def text_of(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(c.get("text", "") for c in content if isinstance(c, dict))
    return json.dumps(content)


def answer(body):
    items = [i for i in body.get("input") or [] if isinstance(i, dict)]
    last = items[-1] if items else {}
    counter[0] += 1
    n = counter[0]
    if last.get("type") in ("function_call_output", "custom_tool_call_output"):
        output = last.get("output")
        if isinstance(output, dict):
            output = output.get("content") or json.dumps(output)
        return [{"type": "message", "role": "assistant", "id": "msg_%d" % n,
                 "content": [{"type": "output_text", "text": "tool said: " + text_of(output).strip()}]}]
    users = [i for i in items if i.get("role") == "user"]
    said = text_of(users[-1].get("content")).strip() if users else ""
    said = said.splitlines()[-1] if said else ""
    if said.startswith("run "):
        return [{"type": "function_call", "name": "exec_command", "call_id": "call_%d" % n, "id": "fc_%d" % n,
                 "arguments": json.dumps({"cmd": said[4:], "sandbox_permissions": "require_escalated",
                                          "justification": "the test asked to run it"})}]
    if said.startswith("patch "):
        patch = "*** Begin Patch\n*** Add File: %s\n+patched\n*** End Patch\n" % said[6:]
        tools = {t.get("name"): t for t in body.get("tools") or []}
        if tools.get("apply_patch", {}).get("type") == "custom":
            return [{"type": "custom_tool_call", "name": "apply_patch", "call_id": "call_%d" % n, "id": "ctc_%d" % n, "input": patch}]
        return [{"type": "function_call", "name": "apply_patch", "call_id": "call_%d" % n, "id": "fc_%d" % n,
                 "arguments": json.dumps({"input": patch})}]
    return [{"type": "message", "role": "assistant", "id": "msg_%d" % n,
             "content": [{"type": "output_text", "text": "echo: " + said}]}]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        data = json.dumps({"data": [], "models": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"undecodable": len(raw)}
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        items = answer(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        rid = "resp_%d" % counter[0]

        def event(data):
            self.wfile.write(("event: %s\ndata: %s\n\n" % (data["type"], json.dumps(data))).encode())
            self.wfile.flush()

        event({"type": "response.created", "response": {"id": rid}})
        for i, item in enumerate(items):
            event({"type": "response.output_item.added", "output_index": i, "item": item})
            if item["type"] == "message":
                event({"type": "response.output_text.delta", "output_index": i, "content_index": 0,
                       "item_id": item["id"], "delta": item["content"][0]["text"]})
            event({"type": "response.output_item.done", "output_index": i, "item": item})
        event({"type": "response.completed", "response": {"id": rid, "usage": {
            "input_tokens": 200, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 40, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 240}}})
        self.close_connection = True


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
sys.stdout.write("listening on http://127.0.0.1:%d\n" % server.server_address[1])
sys.stdout.flush()
server.serve_forever()
