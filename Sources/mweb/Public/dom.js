// Small DOM and formatting helpers shared by the screens.

/** `h("div", {class: "x", onclick}, child, "text")`: an element with attributes, handlers and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** `$("id")`. */
export const $ = (id) => document.getElementById(id);

/** 75 s → "1m 15s"; 2 h → "2h 0m"; with `tenths`, under 10 s → "0.8s". */
export function duration(ms, tenths = false) {
  if (tenths && ms < 10000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${m % 60}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/** "3m ago" for a timestamp. */
export function age(iso, now = Date.now()) {
  const ms = now - Date.parse(iso);
  return ms < 5000 ? "just now" : `${duration(ms).split(" ")[0]} ago`;
}

/** How long a run has run (so far, when it has not finished); "" before it started. */
export function runDuration(run, now = Date.now()) {
  if (!run.started_at) return "";
  return duration((run.finished_at ? Date.parse(run.finished_at) : now) - Date.parse(run.started_at), Boolean(run.finished_at));
}

/** A status's icon and words, for the badge. */
export const statusInfo = {
  queued: { icon: "◷", label: "queued" },
  running: { icon: "▶", label: "running" },
  waiting_approval: { icon: "⚑", label: "waiting for you" },
  succeeded: { icon: "✓", label: "succeeded" },
  failed: { icon: "✕", label: "failed" },
  canceled: { icon: "⊘", label: "canceled" },
  lost: { icon: "?", label: "lost" },
};

/** A status badge: icon and words, coloured by status. */
export function statusBadge(status) {
  const info = statusInfo[status] ?? { icon: "•", label: status };
  return h("span", { class: `badge status-${status}` }, h("span", { "aria-hidden": "true", text: info.icon }), ` ${info.label}`);
}
