"""Per-run limits and sandbox paths through the HTTP API, with runs really run by mexec."""
import os
import time

import requests


def test_limits_through_the_api_end_runs_with_the_notice_naming_them(m_up):
    """POST /runs with `limits` and `sandbox_paths`, run for real by mexec: each limit reached ends
    the run failed with its notice; a forbidden path is a 422 that creates nothing."""
    url, tokens, env = m_up
    auth = {"Authorization": f"Bearer {tokens['steer']}"}
    folder = os.path.dirname(env["M_DB"])
    refused = requests.post(f"{url}/api/v1/runs", headers=auth, timeout=10,
                            json={"command": "true", "sandbox_paths": {"read": [folder]}})
    assert refused.status_code == 422 and "sandbox path" in refused.json()["error"]["message"]
    runs = {
        "output": {"command": "while true; do echo spam; done", "limits": {"output_bytes": 100}},
        "time": {"command": "sleep 60", "limits": {"timeout_s": 1}},
    }
    ids = {}
    for name, body in runs.items():
        created = requests.post(f"{url}/api/v1/runs", headers=auth, json=body, timeout=10)
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    deadline = time.time() + 60
    finished = {}
    while len(finished) < len(ids) and time.time() < deadline:
        for name, run_id in ids.items():
            run = requests.get(f"{url}/api/v1/runs/{run_id}", headers=auth, timeout=10).json()
            if run["status"] in ("succeeded", "failed", "canceled", "lost"):
                finished[name] = run
        time.sleep(0.2)
    assert {name: run["status"] for name, run in finished.items()} == {"output": "failed", "time": "failed"}
    for name, needle in (("output", "output limit (limits.output_bytes = 100)"), ("time", "time limit (limits.timeout_s = 1 s)")):
        events = requests.get(f"{url}/api/v1/runs/{ids[name]}/events", headers=auth, timeout=10).json()["events"]
        notices = [e["data"]["text"] for e in events if e["type"] == "notice"]
        assert any(needle in text for text in notices), (name, notices)
        if name == "output":
            kept = "".join(e["data"].get("text", "") for e in events if e["type"] == "output")
            assert kept == ("spam\n" * 20), kept
    assert len(requests.get(f"{url}/api/v1/runs", headers=auth, timeout=10).json()["runs"]) == 2
