// The runs list: live from the all-runs stream (no polling). Runs waiting for
// approval come first, and their pending approvals are cards at the top with
// a count badge (also in the document title and, where supported, the app badge).
import { call } from "./api.js";
import { approvalCard, dropCard } from "./approvals.js";
import { age, h, runDuration, statusBadge, statusInfo } from "./dom.js";
import { searchBox } from "./search.js";
import { follow } from "./stream.js";

const pageSize = 50;

/** Shows the list in `view`; `setConnection(state)` drives the indicator. Returns `dispose()`. */
export function showRuns(view, { setConnection }) {
  const count = h("span", { id: "waiting-count", class: "count", hidden: true });
  const approvals = h("div", { id: "approvals", class: "approvals" });
  const list = h("ul", { id: "runs", class: "runs" });
  const older = h("button", { type: "button", id: "older", class: "secondary", hidden: true }, "Show older runs");
  const empty = h("p", { id: "no-runs", class: "facts", hidden: true, text: "No runs yet. Start one with “New run”." });
  const filter = h("select", { id: "status-filter", "aria-label": "Show runs that are" },
    h("option", { value: "", text: "All runs" }),
    Object.entries(statusInfo).map(([status, info]) => h("option", { value: status, text: `${info.icon} ${info.label}` })));
  const pull = h("div", { id: "pull", class: "pull", hidden: true, role: "status" });
  view.replaceChildren(h("section", { id: "list", class: "screen" }, pull,
    h("div", { class: "list-head" }, h("h1", {}, "Runs ", count), h("a", { href: "#/new", class: "button", id: "new-run-link" }, "+ New run")),
    searchBox(), approvals, h("div", { class: "list-filter" }, filter), list, empty, older));

  const runs = new Map(); // id → run
  let nextBefore = null;

  const draw = () => {
    const sorted = [...runs.values()].sort((a, b) =>
      (b.status === "waiting_approval") - (a.status === "waiting_approval") || b.id - a.id);
    list.replaceChildren(...sorted.map(runItem));
    empty.hidden = runs.size > 0;
    empty.textContent = filter.value ? `No ${statusInfo[filter.value].label} runs.` : "No runs yet. Start one with “New run”.";
    older.hidden = nextBefore === null;
  };
  const setWaiting = (n) => {
    count.hidden = n === 0;
    count.textContent = String(n);
    count.setAttribute("aria-label", `${n} waiting for you`);
    document.title = n ? `(${n}) M` : "M";
    if (n) navigator.setAppBadge?.(n).catch(() => {});
    else navigator.clearAppBadge?.().catch(() => {});
  };
  const loadApprovals = async () => {
    const { approvals: pending } = await call("GET", "/approvals?status=pending");
    const shown = new Set(pending.map((a) => String(a.id)));
    for (const card of approvals.querySelectorAll(".approval.pending")) if (!shown.has(card.dataset.approval)) dropCard(approvals, card.dataset.approval);
    for (const a of pending) {
      if (approvals.querySelector(`[data-approval="${a.id}"]`)) continue;
      approvals.append(approvalCard(a, { run: runs.get(a.run_id) ?? { title: "" },
        onDecided: (id) => { dropCard(approvals, id); setWaiting(approvals.querySelectorAll(".approval.pending").length); } }));
    }
    setWaiting(pending.length);
  };
  const query = () => `/runs?limit=${pageSize}${filter.value ? `&status=${filter.value}` : ""}`;
  const loadRuns = async () => {
    const page = await call("GET", query());
    runs.clear();
    for (const r of page.runs) runs.set(r.id, r);
    nextBefore = page.next_before ?? null;
    draw();
  };
  filter.addEventListener("change", () => loadRuns().catch(() => {}));
  older.addEventListener("click", async () => {
    const page = await call("GET", `${query()}&before=${nextBefore}`);
    for (const r of page.runs) runs.set(r.id, r);
    nextBefore = page.next_before ?? null;
    draw();
  });

  // Events name the runs that changed; they are fetched again together, once per burst.
  const dirty = new Set();
  let approvalsDirty = false, timer = null;
  const flush = async () => {
    const ids = [...dirty];
    dirty.clear();
    const reloadApprovals = approvalsDirty;
    approvalsDirty = false;
    const fetched = await Promise.all(ids.map((id) => call("GET", `/runs/${id}`).catch(() => null)));
    for (const r of fetched) {
      if (!r) continue;
      if (filter.value && r.status !== filter.value) runs.delete(r.id); // it left the filter
      else runs.set(r.id, r);
    }
    if (ids.length) draw();
    if (reloadApprovals) await loadApprovals();
  };
  const schedule = () => { timer ??= setTimeout(() => { timer = null; flush().catch(() => {}); }, 30); };

  const stream = follow({
    path: "/stream", key: "id", after: null, onState: setConnection,
    // With no cursor yet the stream starts from now: load the list once it is
    // open, so nothing committed in between is missed.
    // `data-loaded` tells tests and screenshots that the first load is on the page.
    onOpen: (cursor) => { if (cursor === null) loadRuns().then(loadApprovals).then(() => { view.firstChild.dataset.loaded = "true"; }).catch(() => {}); },
    onRefused: () => call("GET", "/session").catch(() => {}),
    onEvent: (e) => {
      if (e.type === "output") return;
      if (e.type.startsWith("run.") || e.type.startsWith("approval.") || e.type === "cancel.requested") dirty.add(e.run_id);
      if (e.type.startsWith("approval.")) approvalsDirty = true;
      if (dirty.size || approvalsDirty) schedule();
    },
  });
  // Pull to refresh (a home-screen app has no reload button): reloads the list and the approvals.
  const pullNeeds = 70;
  let pullFrom = null, pulled = 0;
  const onStart = (e) => { pullFrom = window.scrollY <= 0 && e.touches.length === 1 ? e.touches[0].clientY : null; pulled = 0; };
  const onMove = (e) => {
    if (pullFrom === null) return;
    pulled = e.touches[0].clientY - pullFrom;
    pull.hidden = pulled < 10;
    pull.textContent = pulled >= pullNeeds ? "Release to refresh" : "Pull to refresh";
  };
  const onEnd = () => {
    if (pullFrom === null) return;
    pullFrom = null;
    if (pulled < pullNeeds) { pull.hidden = true; return; }
    pull.textContent = "Refreshing…";
    loadRuns().then(loadApprovals).catch(() => {}).finally(() => { pull.hidden = true; });
  };
  window.addEventListener("touchstart", onStart, { passive: true });
  window.addEventListener("touchmove", onMove, { passive: true });
  window.addEventListener("touchend", onEnd);
  // Ages and running durations move on without events.
  const ticker = setInterval(() => { for (const r of runs.values()) if (!r.finished_at) { draw(); break; } }, 5000);
  return () => {
    stream.stop(); clearInterval(ticker); clearTimeout(timer);
    window.removeEventListener("touchstart", onStart);
    window.removeEventListener("touchmove", onMove);
    window.removeEventListener("touchend", onEnd);
  };
}

function runItem(run) {
  const bits = [`#${run.id}`, run.agent, age(run.created_at)];
  const took = runDuration(run);
  if (took) bits.push(took);
  if (run.exit_code !== null && run.exit_code !== undefined) bits.push(`exit ${run.exit_code}`);
  return h("li", { "data-id": run.id, "data-status": run.status },
    h("a", { href: `#/runs/${run.id}` },
      statusBadge(run.status),
      h("span", { class: "run-title", text: run.title || `Run #${run.id}` }),
      h("span", { class: "run-facts", text: bits.join(" · ") })));
}
