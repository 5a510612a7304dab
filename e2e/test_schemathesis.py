"""schemathesis against the OpenAPI document mweb serves: no 5xx, and every
response (status, content type, body, headers) as the document says."""
import os
import subprocess
import sys

import requests


def test_served_openapi_document_holds_under_schemathesis(mweb, tmp_path):
    url, tokens, _ = mweb
    auth = {"Authorization": f"Bearer {tokens['steer']}"}
    doc = requests.get(f"{url}/api/v1/openapi.yaml", headers=auth, timeout=10)
    assert doc.status_code == 200
    schema = tmp_path / "openapi.yaml"
    schema.write_text(doc.text)
    # Some data for the id routes to find.
    run = requests.post(f"{url}/api/v1/runs", headers=auth, json={"command": "true"}, timeout=10).json()
    assert run["status"] == "queued"
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", str(schema), "--url", url,
        "-H", f"Authorization: Bearer {tokens['steer']}",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                    "response_schema_conformance,response_headers_conformance",
        "--max-examples", os.environ.get("M_SCHEMATHESIS_EXAMPLES", "25"),
        "--seed", "1", "--no-color",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    tail = "\n".join((r.stdout + r.stderr).splitlines()[-60:])
    assert r.returncode == 0, tail
