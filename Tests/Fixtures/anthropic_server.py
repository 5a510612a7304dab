#!/usr/bin/env python3
"""A scripted Anthropic Messages API on loopback, for running the real Claude Code CLI offline.

Prints "listening on http://127.0.0.1:PORT" once serving (port 0 picks a free one). Every request's
JSON body is appended to the file named by --log. What it answers, by the conversation's last message:
  a tool_result            -> text "tool said: <the result's text>" (end_turn)
  user text "run CMD"      -> a Bash tool_use with command CMD
  user text "edit NAME"    -> a Write tool_use creating NAME (in the session's cwd) with "edited\n"
  any other user text      -> text "echo: <text>"
Requests that are not the main conversation (no tools: titles, summaries) get a short text.
Streams server-sent events when the request says "stream": true, else one JSON message.
"""
import argparse, json, re, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--log", required=True)
args = parser.parse_args()
log_lock = threading.Lock()
counter = [0]


def text_of(content):
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if block.get("type") == "text":
            parts.append(block["text"])
        elif block.get("type") == "tool_result":
            parts.append(text_of(block.get("content") or ""))
    return "\n".join(parts)


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def plan(body):
    # The conversation's last user message (Claude Code may append a system-role message after it).
    users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    last = users[-1] if users else {"content": ""}
    content = last.get("content")
    if not body.get("tools"):
        return [{"type": "text", "text": "A title"}]
    own = [b for b in content if not (b.get("type") == "text" and b.get("text", "").lstrip().startswith("<"))] \
        if isinstance(content, list) else []
    if own and own[-1].get("type") == "tool_result":
        result = own[-1]
        return [{"type": "text", "text": "tool said: " + text_of(result.get("content") or "").strip()}]
    # The user's own words: the last text block (Claude Code adds system reminders before it).
    blocks = [content] if isinstance(content, str) else [b.get("text", "") for b in content if b.get("type") == "text"]
    words = [b for b in blocks if not b.lstrip().startswith("<")]
    said = (words[-1] if words else (blocks[-1] if blocks else "")).strip()
    counter[0] += 1
    if said.startswith("run "):
        return [{"type": "text", "text": "Running it."},
                {"type": "tool_use", "id": "toolu_%03d" % counter[0], "name": "Bash",
                 "input": {"command": said[4:], "description": "Run what was asked"}}]
    if said.startswith("edit "):
        cwd = re.search(r"[Ww]orking directory: (\S+)", "\n".join(strings(body)))
        path = (cwd.group(1) if cwd else ".") + "/" + said[5:]
        return [{"type": "tool_use", "id": "toolu_%03d" % counter[0], "name": "Write",
                 "input": {"file_path": path, "content": "edited\n"}}]
    return [{"type": "text", "text": "echo: " + said}]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.reply_json({})

    def reply_json(self, obj, status=200):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with log_lock, open(args.log, "a") as f:
            f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        if "count_tokens" in self.path:
            return self.reply_json({"input_tokens": 100})
        if not self.path.startswith("/v1/messages"):
            return self.reply_json({})
        blocks = plan(body)
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        message = {"id": "msg_%d" % counter[0], "type": "message", "role": "assistant", "model": body.get("model", "claude"),
                   "content": blocks, "stop_reason": stop, "stop_sequence": None,
                   "usage": {"input_tokens": 120, "output_tokens": 30}}
        if not body.get("stream"):
            return self.reply_json(message)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

        def event(kind, data):
            self.wfile.write(("event: %s\ndata: %s\n\n" % (kind, json.dumps(data))).encode())
            self.wfile.flush()

        start = dict(message, content=[], stop_reason=None, usage={"input_tokens": 120, "output_tokens": 1})
        event("message_start", {"type": "message_start", "message": start})
        for i, block in enumerate(blocks):
            if block["type"] == "text":
                event("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})
                event("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": block["text"]}})
            else:
                event("content_block_start", {"type": "content_block_start", "index": i,
                                              "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
                event("content_block_delta", {"type": "content_block_delta", "index": i,
                                              "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
            event("content_block_stop", {"type": "content_block_stop", "index": i})
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                "usage": {"output_tokens": 30}})
        event("message_stop", {"type": "message_stop"})
        self.close_connection = True


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
sys.stdout.write("listening on http://127.0.0.1:%d\n" % server.server_address[1])
sys.stdout.flush()
server.serve_forever()
