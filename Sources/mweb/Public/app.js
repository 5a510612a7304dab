// M's small web client: sign in, list runs live, follow one run's output,
// type input, cancel, decide approvals. Plain ES module, no build step.
const api = "/api/v1";
const $ = (id) => document.getElementById(id);

async function call(method, path, body) {
  const res = await fetch(api + path, {
    method, credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error(data?.error?.message || res.statusText), { status: res.status });
  return data;
}

// A WebSocket that resumes from its last cursor after any close (4008: too slow).
function follow(path, cursorKey, after, onEvent) {
  let cursor = after, socket, stopped = false;
  const open = () => {
    const url = new URL(api + path, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (cursor !== null) url.searchParams.set("after", cursor);
    socket = new WebSocket(url);
    socket.onmessage = (m) => { const e = JSON.parse(m.data); cursor = e[cursorKey]; onEvent(e); };
    socket.onclose = () => { if (!stopped) setTimeout(open, 1000); };
  };
  open();
  return () => { stopped = true; socket?.close(); };
}

function show(section) {
  for (const id of ["login", "list", "run"]) $(id).hidden = id !== section;
}

let stopStream = null;

async function signIn(token) {
  await call("POST", "/session", { token });
  history.replaceState(null, "", location.pathname); // the token leaves the address bar
}

async function route() {
  stopStream?.(); stopStream = null;
  let me;
  try { me = await call("GET", "/session"); } catch { show("login"); return; }
  $("who").textContent = `${me.name} · ${me.scope}`;
  const m = location.hash.match(/^#\/runs\/(\d+)/);
  if (m) await showRun(Number(m[1])); else await showList();
}

function runItem(run) {
  const li = document.createElement("li");
  li.innerHTML = `<a href="#/runs/${run.id}"><span class="status ${run.status}"></span><b></b><small></small></a>`;
  li.querySelector(".status").textContent = run.status;
  li.querySelector("b").textContent = run.title || `run ${run.id}`;
  li.querySelector("small").textContent = `#${run.id} · ${run.created_at.replace("T", " ").slice(0, 19)}`;
  li.dataset.id = run.id;
  return li;
}

async function showList() {
  show("list");
  const render = async () => {
    const { runs } = await call("GET", "/runs?limit=50");
    $("runs").replaceChildren(...runs.map(runItem));
  };
  await render();
  let pending = null;
  stopStream = follow("/stream", "id", null, (e) => {
    if (e.type.startsWith("run.") || e.type.startsWith("approval.")) {
      clearTimeout(pending); pending = setTimeout(render, 100);
    }
  });
}

async function showRun(id) {
  show("run");
  const out = $("output");
  out.textContent = "";
  const refresh = async () => {
    const run = await call("GET", `/runs/${id}`);
    $("run-title").textContent = run.title || `run ${id}`;
    $("run-status").textContent = run.status + (run.exit_code !== null ? ` (exit ${run.exit_code})` : "");
    const { approvals } = await call("GET", `/approvals?status=pending&run_id=${id}`);
    $("approvals").replaceChildren(...approvals.map(approvalCard));
  };
  await refresh();
  stopStream = follow(`/runs/${id}/stream`, "seq", 0, (e) => {
    const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    if (e.type === "output") out.append(e.data.text ?? atob(e.data.b64 ?? ""));
    else if (e.type === "input") out.append(`› ${e.data.text}\n`);
    else if (e.type === "notice") out.append(`[${e.data.level}] ${e.data.text}\n`);
    else if (e.type === "agent.message") out.append(`${e.data.role}: ${e.data.text}\n`);
    if (e.type.startsWith("run.") || e.type.startsWith("approval.")) refresh();
    if (stick) out.scrollTop = out.scrollHeight;
  });
  $("input-form").onsubmit = async (ev) => {
    ev.preventDefault();
    try { await call("POST", `/runs/${id}/input`, { text: $("input-text").value }); $("input-text").value = ""; }
    catch (e) { alert(e.message); }
  };
  $("cancel").onclick = async () => {
    if (confirm("Cancel this run?")) await call("POST", `/runs/${id}/cancel`).catch((e) => alert(e.message));
  };
}

function approvalCard(a) {
  const div = document.createElement("div");
  div.className = "approval";
  div.innerHTML = `<b></b><p></p><button class="ok">Approve</button> <button class="danger">Reject</button>`;
  div.querySelector("b").textContent = a.title || a.kind;
  div.querySelector("p").textContent = a.body;
  const decide = (decision) => call("POST", `/approvals/${a.id}`, { decision }).catch((e) => alert(e.message));
  div.querySelector(".ok").onclick = () => decide("approve");
  div.querySelector(".danger").onclick = () => decide("reject");
  return div;
}

$("login-form").onsubmit = async (ev) => {
  ev.preventDefault();
  try { await signIn($("token").value.trim()); $("token").value = ""; await route(); }
  catch (e) { $("login-error").textContent = e.message; }
};
$("new-run").onsubmit = async (ev) => {
  ev.preventDefault();
  try {
    const run = await call("POST", "/runs", { agent: "command", command: $("new-command").value });
    $("new-command").value = "";
    location.hash = `#/runs/${run.id}`;
  } catch (e) { alert(e.message); }
};
window.addEventListener("hashchange", route);

const pairing = location.hash.match(/^#token=(m_[0-9a-f]+)/);
if (pairing) signIn(pairing[1]).catch((e) => { $("login-error").textContent = e.message; }).finally(route);
else route();
