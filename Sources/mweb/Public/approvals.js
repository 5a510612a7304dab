// Approval cards: what an agent asks, and approve / reject with an optional
// note. `command` shows the command verbatim; `question` takes a text answer
// (the note, which reaches the agent). A decision someone else made first is
// the API's 409, shown as "already decided".
import { call } from "./api.js";
import { diffView } from "./diffview.js";
import { duration, h } from "./dom.js";

const kindLabel = { command: "Run this command?", question: "Question", diff: "Apply these changes?", ask: "Approval" };

/**
 * A card for approval `a` ({id, run_id, kind, title, body, diff_id?}); a proposed
 * diff is fetched and shown inline with the diff viewer. `run` (optional)
 * names the run it belongs to, for cards on the list. `onDecided(id)` is called
 * once it is decided here (a 409 keeps the card, saying so, until dismissed).
 */
export function approvalCard(a, { run = null, onDecided = () => {} } = {}) {
  const message = h("p", { class: "approval-msg", role: "alert" });
  const expiry = h("p", { class: "approval-expiry", hidden: true });
  const note = a.kind === "question"
    ? h("textarea", { class: "approval-note", rows: "2", placeholder: "Your answer", "aria-label": "Your answer" })
    : h("input", { class: "approval-note", placeholder: "Note (optional)", "aria-label": "Note (optional)", autocomplete: "off" });
  const approve = h("button", { class: "ok", type: "button" }, a.kind === "question" ? "Answer" : "Approve");
  const reject = h("button", { class: "danger", type: "button" }, "Reject");
  const card = h("article", { class: `approval pending kind-${a.kind}`, "data-approval": a.id },
    h("header", {},
      h("span", { class: "approval-kind", text: kindLabel[a.kind] ?? "Approval" }),
      run ? h("a", { href: `#/runs/${a.run_id}`, class: "approval-run", text: `#${a.run_id} ${run.title ?? ""}`.trim() }) : null),
    a.kind === "command" ? h("pre", { class: "approval-command", text: a.title }) : h("p", { class: "approval-title", text: a.title }),
    // The body repeats the command, or lists a diff's files that the viewer shows better.
    a.body && a.body !== a.title && !a.diff_id ? h(a.kind === "diff" ? "pre" : "p", { class: "approval-body", text: a.body }) : null,
    a.diff_id ? diffHost(a.diff_id) : null,
    expiry,
    note,
    h("div", { class: "approval-actions" }, approve, reject),
    message);

  const decide = async (decision) => {
    const text = note.value.trim();
    if (a.kind === "question" && decision === "approve" && !text) {
      message.textContent = "Type an answer first (or reject).";
      note.focus();
      return;
    }
    approve.disabled = reject.disabled = true;
    message.textContent = "";
    try {
      await call("POST", `/approvals/${a.id}`, text ? { decision, note: text } : { decision });
      card.classList.replace("pending", "decided");
      message.textContent = decision === "approve" ? "Approved." : "Rejected.";
      onDecided(a.id);
    } catch (err) {
      if (err.status === 409) {
        card.classList.replace("pending", "decided");
        card.classList.add("conflict");
        message.textContent = "Already decided: someone else answered this first. ";
        message.append(h("button", { type: "button", class: "link", onclick: () => card.remove() }, "Dismiss"));
      } else {
        approve.disabled = reject.disabled = false;
        message.textContent = err.message;
      }
    }
  };
  // Cards made from events do not know the expiry: ask for the approval once the card is on the page.
  if (a.expires_at !== undefined) countdown(expiry, a.expires_at);
  else setTimeout(() => {
    if (card.isConnected && card.classList.contains("pending")) {
      call("GET", `/approvals/${a.id}`).then((full) => countdown(expiry, full.expires_at)).catch(() => {});
    }
  }, 0);
  approve.addEventListener("click", () => decide("approve"));
  reject.addEventListener("click", () => decide("reject"));
  return card;
}

/** Removes the card of approval `id` from `container`, unless it is showing an "already decided" it must keep. */
export function dropCard(container, id) {
  const card = container.querySelector(`[data-approval="${id}"]`);
  if (card && !card.classList.contains("conflict")) card.remove();
}

// The proposed diff, loaded into the card once it is on the page.
function diffHost(id) {
  const host = h("div", { class: "approval-diff", text: "Loading the diff…" });
  call("GET", `/diffs/${id}`).then((diff) => host.replaceChildren(diffView(diff)))
    .catch((err) => { host.textContent = `The diff cannot be shown: ${err.message}`; });
  return host;
}

// "Expires in 1m 5s", every second, until the card leaves the page.
function countdown(el, expiresAt) {
  if (!expiresAt) return;
  const end = Date.parse(expiresAt);
  const tick = () => {
    if (!el.isConnected && el.dataset.started) return;
    el.dataset.started = "1";
    const left = end - Date.now();
    el.hidden = false;
    el.textContent = left > 0 ? `Expires in ${duration(left)}` : "Expiring…";
    setTimeout(tick, 1000);
  };
  tick();
}
