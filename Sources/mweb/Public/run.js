// One run: header (status, duration, exit code or signal, repo, workspace), the
// pending approvals, the live log, an input box and cancel. Everything comes
// from the run's event stream, replayed from the start and then live.
import { call } from "./api.js";
import { approvalCard, dropCard } from "./approvals.js";
import { $, h, runDuration, statusBadge } from "./dom.js";
import { diffView } from "./diffview.js";
import { LogView } from "./logview.js";
import { follow } from "./stream.js";

const finished = new Set(["succeeded", "failed", "canceled", "lost"]);

/**
 * Shows run `id` in `view`; `setConnection(state)` drives the indicator; `at`
 * (`{seq, q}`, from a search hit) is a line to scroll to and mark. Returns `dispose()`.
 */
export function showRun(view, id, { setConnection, at = null }) {
  const title = h("h1", { id: "run-title", text: `Run #${id}` });
  const status = h("span", { id: "run-status" });
  const facts = h("p", { id: "run-facts", class: "facts" });
  const workspace = h("p", { id: "run-workspace", class: "facts mono" });
  const confinement = h("p", { id: "run-confinement", class: "facts", hidden: true });
  const approvals = h("div", { id: "approvals", class: "approvals" });
  const logHost = h("div", { id: "log" });
  const copy = h("button", { type: "button", id: "log-copy", class: "secondary small" }, "Copy log");
  const wrap = h("input", { id: "log-wrap", type: "checkbox", checked: true });
  const findText = h("input", { id: "find-text", type: "search", placeholder: "Find in the log", "aria-label": "Find in the log",
    autocapitalize: "off", autocorrect: "off", spellcheck: "false", enterkeyhint: "search" });
  const findCount = h("span", { id: "find-count", class: "facts", role: "status" });
  const findBar = h("form", { id: "find-bar", class: "row find-bar", hidden: true }, findText,
    h("button", { type: "button", id: "find-prev", class: "secondary small", "aria-label": "Previous match" }, "↑"),
    h("button", { type: "button", id: "find-next", class: "secondary small", "aria-label": "Next match" }, "↓"), findCount);
  const findToggle = h("button", { type: "button", id: "find-toggle", class: "secondary small" }, "Find");
  const askDiff = h("button", { type: "button", id: "request-diff", class: "secondary small" }, "Request diff");
  const logBar = h("div", { class: "row between log-bar" }, h("label", { class: "check" }, wrap, " Wrap lines"),
    h("div", { class: "row" }, findToggle, askDiff, copy,
      h("a", { id: "log-export", class: "button secondary small", href: `/api/v1/runs/${id}/transcript`, target: "_blank", rel: "noopener" }, "Export")));
  const diffs = h("section", { id: "diffs", hidden: true });
  const text = h("input", { id: "input-text", placeholder: "Type into the run", autocomplete: "off", autocapitalize: "off",
    autocorrect: "off", spellcheck: "false", enterkeyhint: "send", "aria-label": "Input for the run" });
  const noEnter = h("input", { id: "input-no-enter", type: "checkbox" });
  const formMsg = h("p", { id: "input-msg", class: "error", role: "alert" });
  const inputForm = h("form", { id: "input-form", class: "input-form" },
    h("div", { class: "row" }, text, h("button", { id: "input-send" }, "Send")),
    h("div", { class: "row small" },
      h("label", { class: "check" }, noEnter, " Send without Enter"),
      h("button", { type: "button", id: "input-eof", class: "secondary" }, "Send EOF")),
    formMsg);
  const cancel = h("button", { type: "button", id: "cancel", class: "danger secondary" }, "Cancel run");
  const confirmBox = h("div", { id: "cancel-confirm", class: "confirm", hidden: true, role: "alertdialog", "aria-label": "Confirm cancel" },
    h("p", { text: "Cancel this run? Its processes are stopped." }),
    h("div", { class: "row" },
      h("button", { type: "button", id: "cancel-yes", class: "danger" }, "Yes, cancel it"),
      h("button", { type: "button", id: "cancel-no", class: "secondary" }, "Keep running")));
  const controls = h("section", { id: "controls" }, inputForm);
  view.replaceChildren(h("section", { id: "run", class: "screen" },
    h("nav", { class: "back" }, h("a", { href: "#/", text: "‹ Runs" })),
    h("header", { class: "run-head" }, title, h("div", { class: "row between" }, status, cancel), facts, confinement, workspace, confirmBox),
    approvals, diffs, logBar, findBar, logHost, controls));

  const log = new LogView(logHost);
  let run = null, signal = null;

  const renderHead = () => {
    if (!run) return;
    title.textContent = run.title || `Run #${id}`;
    status.replaceChildren(statusBadge(run.status));
    const bits = [`#${run.id}`, run.agent, runDuration(run)];
    if (run.exit_code !== null && run.exit_code !== undefined) bits.push(`exit ${run.exit_code}`);
    if (signal) bits.push(`signal ${signal}`);
    if (run.sandbox_mode) bits.push(run.sandbox_mode);
    facts.textContent = bits.filter(Boolean).join(" · ");
    // The confinement in force once the agent started: bubblewrap, or none (a warning: the agent reaches what this user can).
    confinement.hidden = !run.confinement;
    confinement.classList.toggle("warning", run.confinement === "none");
    confinement.textContent = run.confinement === "none" ? "⚠ Not confined: the agent can reach everything M's user can (sandbox none)"
      : `Confined: ${run.confinement}`;
    const repo = run.repo_url ? `${run.repo_url}${run.repo_ref ? ` @ ${run.repo_ref}` : ""}` : null;
    workspace.textContent = [repo, run.workspace].filter(Boolean).join(" → ");
    const done = finished.has(run.status);
    controls.hidden = done;
    askDiff.hidden = done;
    if (done) { cancel.hidden = true; confirmBox.hidden = true; }
  };
  const refresh = async () => {
    try { run = await call("GET", `/runs/${id}`); renderHead(); }
    catch (err) {
      if (err.status !== 404) return;
      // Nothing to follow: stop reconnecting to a stream the server refuses.
      title.textContent = `No run #${id}`;
      stream.stop();
      setConnection(null);
      controls.hidden = logBar.hidden = logHost.hidden = cancel.hidden = true;
    }
  };
  // Fetched again at most once per burst of events (a replay can hold many).
  let refreshTimer = null;
  const refreshSoon = () => { refreshTimer ??= setTimeout(() => { refreshTimer = null; refresh(); }, 50); };
  const ticker = setInterval(() => { if (run && !finished.has(run.status)) renderHead(); }, 1000);

  let revealed = at === null, revealTimer = null;
  const onEvent = (e) => {
    const d = e.data ?? {};
    const note = (text, kind) => log.note(text, kind, e.seq);
    switch (e.type) {
      case "output":
        log.append(d.stream ?? "stdout", d.text ?? decodeB64(d.b64), e.seq);
        break;
      case "input":
        note(d.eof ? "› EOF" : `› ${d.text ?? ""}`, "meta input");
        break;
      case "notice":
        note(`[${d.level ?? "info"}] ${d.text ?? ""}`, `meta notice-${d.level ?? "info"}`);
        break;
      case "agent.message":
        note(`${d.role ?? "agent"}: ${d.text ?? ""}`, "meta");
        break;
      case "approval.requested":
        if (d.diff_id) proposedDiffs.add(d.diff_id);
        approvals.append(approvalCard({ id: d.approval_id, run_id: id, kind: d.kind, title: d.title, body: d.body, diff_id: d.diff_id },
          { onDecided: (aid) => dropCard(approvals, aid) }));
        note(`⚑ asked: ${d.title ?? ""}`, "meta");
        break;
      case "approval.resolved":
        dropCard(approvals, d.approval_id);
        note(`${d.decision === "approved" || d.decision === "approve" ? "✓" : "✕"} ${d.decision} by ${d.by}${d.note ? `: ${d.note}` : ""}`, "meta");
        break;
      case "run.finished":
        signal = d.signal ?? null;
        note(`— ${d.status}${d.exit_code !== undefined && d.exit_code !== null ? `, exit ${d.exit_code}` : ""}${d.signal ? `, signal ${d.signal}` : ""}`, "meta");
        break;
      case "diff.created":
        note(`± diff #${d.diff_id}: ${d.files} file${d.files === 1 ? "" : "s"} +${d.additions} −${d.deletions}`, "meta");
        showDiffSoon(d.diff_id);
        break;
      case "cancel.requested":
        note("— cancel requested", "meta");
        break;
    }
    if (e.type.startsWith("run.") || e.type.startsWith("approval.") || e.type === "cancel.requested") refreshSoon();
    // A search hit's line: marked once its event (and the rest of this burst) is in the log.
    if (!revealed && e.seq >= at.seq) revealTimer ??= setTimeout(() => { revealTimer = null; revealed = log.revealEvent(at.seq, at.q); }, 0);
  };
  // The workspace's latest requested diff (a replay may name many: only the last is fetched).
  // A proposed diff is shown in its approval card instead; its approval comes in the same commit.
  let diffTimer = null, latestDiff = null;
  const proposedDiffs = new Set();
  const showDiffSoon = (diffId) => {
    latestDiff = diffId;
    diffTimer ??= setTimeout(async () => {
      diffTimer = null;
      if (proposedDiffs.has(latestDiff)) return;
      try {
        const diff = await call("GET", `/diffs/${latestDiff}`);
        diffs.replaceChildren(h("details", { class: "run-diff", open: true },
          h("summary", {}, `Workspace diff #${diff.id}${diff.status ? ` · ${diff.status}` : ""}`), diffView(diff)));
        diffs.hidden = false;
      } catch (err) { log.note(`[error] the diff cannot be shown: ${err.message}`, "meta"); }
    }, 50);
  };
  askDiff.addEventListener("click", async () => {
    formMsg.textContent = "";
    try { await call("POST", `/runs/${id}/diffs`, {}); askDiff.textContent = "Diff requested…"; }
    catch (err) { formMsg.textContent = err.message; }
    setTimeout(() => { askDiff.textContent = "Request diff"; }, 2000);
  });

  const stream = follow({ path: `/runs/${id}/stream`, key: "seq", after: 0, onEvent, onState: setConnection,
    onRefused: () => call("GET", "/session").catch(() => {}) });
  refresh();

  const showFound = ({ count, index }) => {
    findCount.textContent = findText.value ? (count ? `${index} of ${count}` : "not found") : "";
  };
  findToggle.addEventListener("click", () => { findBar.hidden = !findBar.hidden; if (!findBar.hidden) findText.focus(); else showFound(log.find("")); });
  findText.addEventListener("input", () => showFound(log.find(findText.value)));
  findBar.addEventListener("submit", (ev) => { ev.preventDefault(); showFound(log.step(1)); });
  $("find-next").addEventListener("click", () => showFound(log.step(1)));
  $("find-prev").addEventListener("click", () => showFound(log.step(-1)));
  wrap.addEventListener("change", () => log.setWrap(wrap.checked));
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(log.text()); copy.textContent = "Copied"; }
    catch { copy.textContent = "Cannot copy here"; }
    setTimeout(() => { copy.textContent = "Copy log"; }, 1500);
  });

  const send = async (body) => {
    formMsg.textContent = "";
    try { await call("POST", `/runs/${id}/input`, body); return true; }
    catch (err) { formMsg.textContent = err.status === 409 ? "The run has finished: it takes no more input." : err.message; return false; }
  };
  inputForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!text.value) { formMsg.textContent = "Type something to send (or send EOF)."; return; }
    if (await send({ text: text.value, newline: !noEnter.checked })) text.value = "";
  });
  $("input-eof").addEventListener("click", () => send({ eof: true }));
  cancel.addEventListener("click", () => { confirmBox.hidden = false; cancel.hidden = true; $("cancel-yes").focus(); });
  $("cancel-no").addEventListener("click", () => { confirmBox.hidden = true; cancel.hidden = finished.has(run?.status); });
  $("cancel-yes").addEventListener("click", async () => {
    confirmBox.hidden = true;
    cancel.hidden = finished.has(run?.status);
    // A JSON body: a change made with the session cookie must be same-origin JSON.
    try { await call("POST", `/runs/${id}/cancel`, {}); } catch (err) { formMsg.textContent = err.message; }
  });

  return () => { stream.stop(); clearInterval(ticker); clearTimeout(refreshTimer); clearTimeout(diffTimer); clearTimeout(revealTimer); log.dispose(); };
}

function decodeB64(b64) {
  if (!b64) return "";
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes); // invalid bytes become U+FFFD
}
