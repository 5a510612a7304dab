// The diff viewer: a diff's files (status, +/− counts, renames, mode changes,
// binary files) and, per file, its unified diff with old and new line numbers,
// collapsible, wrapping long lines so it reads at 390 px. A truncated patch
// says so (the file list is always complete).
import { h } from "./dom.js";

const statusWord = { added: "added", modified: "modified", deleted: "deleted", renamed: "renamed", copied: "copied", type_changed: "type changed" };
const collapseAboveFiles = 8; // more files than this start collapsed

/** Splits a git patch into per-file pieces: `{paths: [..], lines: [..]}` for each `diff --git` section. */
export function splitPatch(patch) {
  const pieces = [];
  let piece = null;
  for (const line of patch.split("\n")) {
    if (line.startsWith("diff --git ")) { piece = { paths: [], lines: [] }; pieces.push(piece); }
    if (!piece) continue;
    if (!piece.hunkSeen) {
      const side = line.match(/^(?:\+\+\+|---) (.*)$/);
      if (side && side[1] !== "/dev/null") piece.paths.push(stripPrefix(unquote(side[1])));
      const moved = line.match(/^(?:rename|copy) (?:from|to) (.*)$/);
      if (moved) piece.paths.push(unquote(moved[1]));
    }
    if (line.startsWith("@@")) piece.hunkSeen = true;
    piece.lines.push(line);
  }
  for (const p of pieces) {
    if (p.paths.length === 0) { // no ---/+++ (binary or mode only): take the a/ b/ names of the first line
      const m = p.lines[0].match(/^diff --git a\/(.*) b\/(.*)$/);
      if (m) p.paths.push(m[1], m[2]);
    }
  }
  return pieces;
}

/** A file's unified diff lines → rows `{kind: hunk|add|del|ctx|note, old, new, text}` with line numbers. */
export function diffRows(lines) {
  const rows = [];
  let oldNo = 0, newNo = 0, inHunk = false;
  for (const line of lines) {
    const hunk = line.match(/^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/);
    if (hunk) {
      oldNo = Number(hunk[1]); newNo = Number(hunk[2]); inHunk = true;
      rows.push({ kind: "hunk", old: "", new: "", text: line });
      continue;
    }
    if (!inHunk) continue;
    if (line.startsWith("diff --git ") || line.startsWith("# M: ")) { inHunk = false; continue; }
    const c = line[0];
    if (c === "+") rows.push({ kind: "add", old: "", new: newNo++, text: line.slice(1) });
    else if (c === "-") rows.push({ kind: "del", old: oldNo++, new: "", text: line.slice(1) });
    else if (c === " ") rows.push({ kind: "ctx", old: oldNo++, new: newNo++, text: line.slice(1) });
    else if (c === "\\") rows.push({ kind: "note", old: "", new: "", text: line });
  }
  return rows;
}

/** The viewer for a diff from `GET /diffs/{id}` (`files`, `patch`, `additions`, `deletions`, `truncated`). */
export function diffView(diff) {
  const files = diff.files ?? [];
  const pieces = splitPatch(diff.patch ?? "");
  const pieceFor = (f) => pieces.find((p) => p.paths.includes(f.path) || (f.old_path && p.paths.includes(f.old_path)));
  const summary = h("p", { class: "diff-summary" },
    `${files.length} file${files.length === 1 ? "" : "s"} `,
    h("span", { class: "diff-add", text: `+${diff.additions ?? 0}` }), " ",
    h("span", { class: "diff-del", text: `−${diff.deletions ?? 0}` }));
  const notice = diff.truncated
    ? h("p", { class: "diff-truncated", role: "note", text: "The patch is too large to show whole: it is cut short (every file is listed)." })
    : null;
  return h("div", { class: "diff" }, summary, notice, files.map((f) => fileView(f, pieceFor(f), files.length > collapseAboveFiles)));
}

function fileView(f, piece, collapsed) {
  const name = f.old_path && f.old_path !== f.path ? `${f.old_path} → ${f.path}` : f.path;
  const head = h("summary", { class: "diff-file-head" },
    h("span", { class: `diff-status st-${f.status}`, text: statusWord[f.status] ?? f.status }),
    h("span", { class: "diff-path", text: name }),
    f.binary ? h("span", { class: "diff-binary", text: "binary" })
      : h("span", { class: "diff-counts" }, h("span", { class: "diff-add", text: `+${f.additions}` }), " ",
        h("span", { class: "diff-del", text: `−${f.deletions}` })));
  const body = [];
  if (f.mode_change) body.push(h("p", { class: "diff-note", text: `mode ${f.mode_change.from} → ${f.mode_change.to}` }));
  if (f.binary) body.push(h("p", { class: "diff-note", text: "Binary file: its content is not shown." }));
  else if (!piece) body.push(h("p", { class: "diff-note", text: "Not in the patch shown (it was cut short)." }));
  else {
    const rows = diffRows(piece.lines);
    if (rows.length === 0 && !f.mode_change) body.push(h("p", { class: "diff-note", text: "No content change." }));
    body.push(h("div", { class: "diff-lines" }, rows.map((r) =>
      h("div", { class: `dl ${r.kind}` },
        h("span", { class: "ln", text: String(r.old) }), h("span", { class: "ln", text: String(r.new) }),
        h("span", { class: "code", text: r.kind === "add" ? `+${r.text}` : r.kind === "del" ? `−${r.text}` : r.kind === "ctx" ? ` ${r.text}` : r.text })))));
  }
  return h("details", { class: "diff-file", "data-path": f.path, "data-status": f.status, open: !collapsed }, head, body);
}

const stripPrefix = (path) => path.replace(/^[ab]\//, "");

// git quotes paths with unusual characters: "b/caf\303\251" (octal UTF-8 bytes, C escapes).
function unquote(path) {
  if (!path.startsWith('"')) return path;
  const inner = path.slice(1, -1);
  const bytes = [];
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === "\\" && /[0-7]{3}/.test(inner.slice(i + 1, i + 4))) { bytes.push(parseInt(inner.slice(i + 1, i + 4), 8)); i += 3; }
    else if (inner[i] === "\\") { const e = inner[++i]; bytes.push((({ n: 10, t: 9, '"': 34, "\\": 92 })[e] ?? e.charCodeAt(0))); }
    else bytes.push(...new TextEncoder().encode(inner[i]));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
