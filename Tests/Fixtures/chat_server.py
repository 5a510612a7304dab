#!/usr/bin/env python3
"""A scripted OpenAI-compatible chat-completions API on loopback, for M's built-in agent.

Prints "listening on http://127.0.0.1:PORT"; every request (headers included) is appended to --log.
What it answers, by the conversation (first user word of the current turn, and how many tool
results the turn has had):
  task      write_file notes.txt, then shell "cat notes.txt", then "done: <last tool output>"
  loop      read_file missing.txt again and again (never finishes by itself)
  busy      answers 429 the first time (with Retry-After: 0), then "echo: busy"
  ask       ask_user "which color?", then "you said: <answer>"
  escape    read_file ../outside.txt, then "result: <tool output>"
  other     "echo: <text>"
Streams server-sent events, tool-call arguments split over two chunks, usage in the last chunk.
"""
import argparse, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--log", required=True)
args = parser.parse_args()
lock = threading.Lock()
busy_seen = set()


def plan(messages):
    # The current turn: everything after the last user message.
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    said = messages[last_user]["content"]
    word = said.split()[0] if said.split() else ""
    results = [m for m in messages[last_user + 1:] if m["role"] == "tool"]
    last = results[-1]["content"] if results else ""
    if word == "task":
        if len(results) == 0:
            return None, ("write_file", {"path": "notes.txt", "content": "hello from the model\n"})
        if len(results) == 1:
            return None, ("shell", {"command": "cat notes.txt"})
        return "done: " + last, None
    if word == "loop":
        return None, ("read_file", {"path": "missing.txt"})
    if word == "busy":
        return "echo: busy", None
    if word == "ask":
        if not results:
            return None, ("ask_user", {"question": "which color?"})
        return "you said: " + last, None
    if word == "escape":
        if not results:
            return None, ("read_file", {"path": "../outside.txt"})
        return "result: " + last, None
    return "echo: " + said, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        messages = body["messages"]
        turn_key = json.dumps(messages[:max(i for i, m in enumerate(messages) if m["role"] == "user") + 1])
        said = [m for m in messages if m["role"] == "user"][-1]["content"]
        if said.startswith("busy") and turn_key not in busy_seen:
            busy_seen.add(turn_key)
            data = b'{"error": {"message": "rate limited"}}'
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        text, call = plan(messages)
        # Chunked transfer encoding, as hosted APIs stream.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def chunk(delta, finish=None, usage=None):
            obj = {"id": "c1", "object": "chat.completion.chunk", "model": body["model"],
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage:
                obj = dict(obj, choices=[], usage=usage)
            send(("data: " + json.dumps(obj) + "\n\n").encode())

        chunk({"role": "assistant", "content": ""})
        if text:
            half = len(text) // 2
            chunk({"content": text[:half]})
            chunk({"content": text[half:]})
            chunk({}, "stop")
        else:
            name, arguments = call
            encoded = json.dumps(arguments)
            half = len(encoded) // 2
            n = len([m for m in messages if m["role"] == "tool"])
            chunk({"tool_calls": [{"index": 0, "id": "call_%d" % n, "type": "function",
                                   "function": {"name": name, "arguments": encoded[:half]}}]})
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": encoded[half:]}}]})
            chunk({}, "tool_calls")
        chunk({}, usage={"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60})
        send(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
sys.stdout.write("listening on http://127.0.0.1:%d\n" % server.server_address[1])
sys.stdout.flush()
server.serve_forever()
