#!/usr/bin/env python3
"""An ACP agent written on the official Python SDK (agent-client-protocol), for M's driver tests.

Prompts: "write NAME TEXT" asks permission and writes NAME through the client; "slow" streams and
waits for session/cancel; "crash" exits mid-turn; anything else is echoed. Needs the SDK on PYTHONPATH.
"""
import asyncio
import os
import sys
import uuid

import acp
from acp import schema


class SdkAgent:
    def __init__(self):
        self.conn = None
        self.cwd = {}
        self.cancelled = {}
        self.turns = 0

    def on_connect(self, conn):
        self.conn = conn

    async def initialize(self, protocol_version, client_capabilities=None, client_info=None, **kwargs):
        return schema.InitializeResponse(protocol_version=acp.PROTOCOL_VERSION,
                                         agent_capabilities=schema.AgentCapabilities(load_session=False))

    async def new_session(self, cwd, mcp_servers=None, **kwargs):
        session_id = "sdk-" + uuid.uuid4().hex[:8]
        self.cwd[session_id] = cwd
        self.cancelled[session_id] = asyncio.Event()
        return schema.NewSessionResponse(session_id=session_id)

    async def cancel(self, session_id, **kwargs):
        self.cancelled[session_id].set()

    async def say(self, session_id, text):
        await self.conn.session_update(session_id, acp.update_agent_message_text(text))

    async def prompt(self, session_id, prompt, **kwargs):
        self.turns += 1
        text = " ".join(getattr(block, "text", "") for block in prompt)
        words = text.split()
        await self.conn.session_update(session_id, acp.update_plan([
            acp.plan_entry("answer: " + text, priority="high", status="in_progress")]))
        stop = "end_turn"
        if words and words[0] == "write":
            stop = await self.write(session_id, words[1], " ".join(words[2:]) + "\n")
        elif words and words[0] == "slow":
            await self.say(session_id, "working slowly")
            await self.cancelled[session_id].wait()
            stop = "cancelled"
        elif words and words[0] == "crash":
            await self.say(session_id, "about to crash")
            sys.stderr.write("acp_sdk_agent: crashing on purpose\n")
            sys.stderr.flush()
            os._exit(3)
        else:
            await self.say(session_id, "sdk echo: " + text)
        self.cancelled[session_id].clear()
        return schema.PromptResponse(stop_reason=stop, usage=schema.Usage(
            input_tokens=7 * self.turns, output_tokens=3 * self.turns, total_tokens=10 * self.turns))

    async def write(self, session_id, name, content):
        path = os.path.join(self.cwd[session_id], name)
        call_id = "sdk-call-%d" % self.turns
        await self.conn.session_update(session_id, acp.start_tool_call(
            call_id, "Write " + name, kind="edit", status="pending",
            content=[acp.tool_diff_content(path, content)], raw_input={"path": path}))
        answer = await self.conn.request_permission(
            session_id=session_id,
            tool_call=schema.ToolCallUpdate(tool_call_id=call_id),
            options=[schema.PermissionOption(option_id="allow", name="Allow", kind="allow_once"),
                     schema.PermissionOption(option_id="always", name="Always", kind="allow_always"),
                     schema.PermissionOption(option_id="deny", name="Deny", kind="reject_once")])
        outcome = answer.outcome
        if outcome.outcome == "cancelled":
            return "cancelled"
        if outcome.option_id in ("allow", "always"):
            await self.conn.write_text_file(session_id=session_id, path=path, content=content)
            await self.conn.session_update(session_id, acp.update_tool_call(call_id, status="completed"))
            await self.say(session_id, "wrote " + name)
        else:
            await self.conn.session_update(session_id, acp.update_tool_call(call_id, status="failed"))
            await self.say(session_id, "did not write " + name)
        return "end_turn"


asyncio.run(acp.run_agent(SdkAgent()))
