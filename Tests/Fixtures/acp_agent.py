#!/usr/bin/env python3
"""A hand-written ACP v1 agent (JSON-RPC 2.0 over stdio, no SDK) for M's driver tests.

What it does depends on the prompt's words:
  write NAME TEXT   asks permission (a diff for NAME), then writes NAME through fs/write_text_file
  twice NAME        asks to write NAME twice; a second ask is skipped after "allow always"
  run CMD...        runs CMD through terminal/create + wait_for_exit and reports its output
  runin DIR CMD...  the same with DIR as the terminal's cwd
  read PATH         reads PATH through fs/read_text_file and reports it (or the error)
  slow              streams a chunk, then waits for session/cancel (answers stopReason cancelled)
  ask               asks permission and waits (a cancel answers it cancelled)
  crash             streams a chunk, then exits with status 3 mid-turn
  garbage           prints a line that is not JSON, then answers normally
  start CMD...      starts CMD in a terminal and leaves it running (never released)
anything else is echoed back. Every turn sends a plan and a usage_update. It exits at stdin's end,
unless ACP_AGENT_LINGER is set (then it stays until killed).
"""
import json, os, sys, threading, queue

lock = threading.Lock()
next_id = [100]
waiting = {}
work = queue.Queue()
cancelled = threading.Event()
always_allowed = set()


def send(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def request(method, params):
    with lock:
        next_id[0] += 1
        rid = next_id[0]
        slot = waiting[rid] = {"event": threading.Event()}
    send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
    slot["event"].wait()
    return slot["msg"]


def update(session, u):
    send({"jsonrpc": "2.0", "method": "session/update", "params": {"sessionId": session, "update": u}})


def say(session, text):
    # Two chunks, so the client's gathering of chunks shows.
    half = len(text) // 2
    for part in (text[:half], text[half:]):
        if part:
            update(session, {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": part}})


def reader():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        if "method" in msg and "id" in msg:
            work.put(msg)
        elif "method" in msg:
            if msg["method"] == "session/cancel":
                cancelled.set()
        else:
            slot = waiting.pop(msg["id"], None)
            if slot:
                slot["msg"] = msg
                slot["event"].set()
    work.put(None)


def permission(session, call_id, title, kind, content, raw_input):
    answer = request("session/request_permission", {
        "sessionId": session,
        "toolCall": {"toolCallId": call_id},
        "options": [
            {"optionId": "yes", "name": "Allow", "kind": "allow_once"},
            {"optionId": "yes-always", "name": "Always allow", "kind": "allow_always"},
            {"optionId": "no", "name": "Reject", "kind": "reject_once"},
        ],
    })
    outcome = answer["result"]["outcome"]
    if outcome["outcome"] == "cancelled":
        return "cancelled", None
    note = (answer["result"].get("_meta") or {}).get("note")
    return outcome["optionId"], note


def write_file(session, ws, name, text, call_id):
    path = os.path.join(ws, name)
    update(session, {"sessionUpdate": "tool_call", "toolCallId": call_id, "title": "Write " + name, "kind": "edit",
                     "status": "pending", "rawInput": {"path": path},
                     "content": [{"type": "diff", "path": path, "oldText": None, "newText": text}]})
    if name in always_allowed:
        choice, note = "yes-always", None
    else:
        choice, note = permission(session, call_id, "Write " + name, "edit", None, None)
    if choice == "cancelled":
        return "cancelled"
    if choice.startswith("yes"):
        if choice == "yes-always":
            always_allowed.add(name)
        result = request("fs/write_text_file", {"sessionId": session, "path": path, "content": text})
        if "error" in result:
            update(session, {"sessionUpdate": "tool_call_update", "toolCallId": call_id, "status": "failed"})
            say(session, "write failed: " + result["error"]["message"])
        else:
            update(session, {"sessionUpdate": "tool_call_update", "toolCallId": call_id, "status": "completed",
                             "content": [{"type": "diff", "path": path, "oldText": None, "newText": text}]})
            say(session, "I wrote " + name + ".")
    else:
        update(session, {"sessionUpdate": "tool_call_update", "toolCallId": call_id, "status": "failed",
                         "rawOutput": {"rejected": True, "note": note}})
        say(session, "I did not write " + name + " (" + str(note) + ").")
    return "end_turn"


def turn(session, ws, text, counter):
    words = text.split()
    update(session, {"sessionUpdate": "plan", "entries": [
        {"content": "understand: " + text, "priority": "high", "status": "completed"},
        {"content": "answer", "priority": "medium", "status": "in_progress"}]})
    update(session, {"sessionUpdate": "agent_thought_chunk", "content": {"type": "text", "text": "thinking about " + words[0]}})
    stop = "end_turn"
    if words[0] == "write":
        stop = write_file(session, ws, words[1], " ".join(words[2:]) + "\n", "call-%d" % counter)
    elif words[0] == "twice":
        stop = write_file(session, ws, words[1], "one\n", "call-%d-a" % counter)
        if stop != "cancelled":
            stop = write_file(session, ws, words[1], "two\n", "call-%d-b" % counter)
    elif words[0] in ("run", "runin"):
        cwd = ws
        if words[0] == "runin":
            cwd, words = words[1], words[1:]
        created = request("terminal/create", {"sessionId": session, "command": words[1], "args": words[2:], "cwd": cwd})
        if "error" in created:
            say(session, "terminal refused: " + created["error"]["message"])
        else:
            tid = created["result"]["terminalId"]
            update(session, {"sessionUpdate": "tool_call", "toolCallId": "term-call", "title": "Run " + words[1],
                             "kind": "execute", "status": "in_progress", "content": [{"type": "terminal", "terminalId": tid}]})
            exit_status = request("terminal/wait_for_exit", {"sessionId": session, "terminalId": tid})["result"]
            out = request("terminal/output", {"sessionId": session, "terminalId": tid})["result"]
            request("terminal/release", {"sessionId": session, "terminalId": tid})
            update(session, {"sessionUpdate": "tool_call_update", "toolCallId": "term-call", "status": "completed"})
            say(session, "exit %s output %s" % (exit_status.get("exitCode"), out["output"].strip()))
    elif words[0] == "start":
        created = request("terminal/create", {"sessionId": session, "command": words[1], "args": words[2:]})
        say(session, "started " + created["result"]["terminalId"])
    elif words[0] == "read":
        result = request("fs/read_text_file", {"sessionId": session, "path": words[1]})
        if "error" in result:
            say(session, "read refused: " + result["error"]["message"])
        else:
            say(session, "read: " + result["result"]["content"])
    elif words[0] == "slow":
        say(session, "working slowly")
        cancelled.wait()
        stop = "cancelled"
    elif words[0] == "ask":
        update(session, {"sessionUpdate": "tool_call", "toolCallId": "ask-1", "title": "Delete everything", "kind": "execute",
                         "status": "pending", "rawInput": {"command": "rm -rf /tmp/nothing"}})
        choice, _ = permission(session, "ask-1", None, None, None, None)
        stop = "cancelled" if choice == "cancelled" else "end_turn"
    elif words[0] == "crash":
        say(session, "about to crash")
        sys.stderr.write("acp_agent: crashing on purpose\n")
        sys.stderr.flush()
        os._exit(3)
    elif words[0] == "garbage":
        with lock:
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
        say(session, "after garbage")
    else:
        say(session, "echo: " + text)
    if cancelled.is_set():
        stop = "cancelled"
    cancelled.clear()
    update(session, {"sessionUpdate": "usage_update", "used": 1000 * counter, "size": 200000,
                     "cost": {"amount": 0.01 * counter, "currency": "USD"}})
    return stop


def main():
    threading.Thread(target=reader, daemon=True).start()
    ws = None
    counter = 0
    while True:
        msg = work.get()
        if msg is None:
            if os.environ.get("ACP_AGENT_LINGER"):
                threading.Event().wait()
            return
        method, params, rid = msg["method"], msg.get("params") or {}, msg["id"]
        if method == "initialize":
            assert params["clientCapabilities"]["fs"]["writeTextFile"] is True
            send({"jsonrpc": "2.0", "id": rid, "result": {"protocolVersion": 1, "agentCapabilities": {"loadSession": False}}})
        elif method == "session/new":
            ws = params["cwd"]
            send({"jsonrpc": "2.0", "id": rid, "result": {"sessionId": "sess-1"}})
        elif method == "session/prompt":
            counter += 1
            text = " ".join(block.get("text", "") for block in params["prompt"])
            stop = turn(params["sessionId"], ws, text, counter)
            send({"jsonrpc": "2.0", "id": rid, "result": {"stopReason": stop,
                  "usage": {"inputTokens": 10 * counter, "outputTokens": 5 * counter, "totalTokens": 15 * counter}}})
        else:
            send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "unknown " + method}})


main()
