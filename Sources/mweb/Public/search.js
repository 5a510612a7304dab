// Search across every run's output: one box on the list screen. A person
// types plain words; the server finds lines holding all of them (or words
// starting with them), newest first, and marks the matches in a snippet. A
// hit opens its run at that line (`#/runs/ID/at/SEQ?q=WORDS`).
import { call } from "./api.js";
import { h } from "./dom.js";

const hitsShown = 50;

/** The search box and its results, to put at the top of the list screen. */
export function searchBox() {
  const text = h("input", { id: "search-text", type: "search", placeholder: "Search all output", "aria-label": "Search all runs' output",
    autocapitalize: "off", autocorrect: "off", spellcheck: "false", enterkeyhint: "search" });
  const status = h("p", { id: "search-status", class: "facts", role: "status" });
  const hits = h("ul", { id: "search-hits", class: "hits" });
  const form = h("form", { id: "search-form", class: "search", role: "search" },
    h("div", { class: "row" }, text, h("button", { id: "search-go", class: "secondary" }, "Search")), status, hits);
  let asked = 0;
  const search = async () => {
    const q = text.value.trim();
    const mine = ++asked;
    if (!q) { hits.replaceChildren(); status.textContent = ""; return; }
    status.textContent = "Searching…";
    try {
      const found = await call("GET", `/search?q=${encodeURIComponent(q)}&limit=${hitsShown}`);
      if (mine !== asked) return; // a newer search was asked meanwhile
      hits.replaceChildren(...found.hits.map((hit) => hitItem(hit, q)));
      status.textContent = found.hits.length ? `${found.hits.length}${found.hits.length === hitsShown ? "+" : ""} found` : `Nothing found for “${q}”.`;
    } catch (err) {
      if (mine === asked) { hits.replaceChildren(); status.textContent = err.message; }
    }
  };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); search(); });
  // The clear button of a search field empties the results too.
  text.addEventListener("search", () => { if (!text.value) search(); });
  return form;
}

/** One hit: the run, the snippet with its matches marked; a tap opens the run at that line. */
function hitItem(hit, q) {
  const snippet = h("span", { class: "hit-snippet mono" });
  let at = 0;
  for (const [from, to] of hit.marks) {
    if (from > at) snippet.append(hit.snippet.slice(at, from));
    snippet.append(h("mark", { text: hit.snippet.slice(from, to) }));
    at = to;
  }
  snippet.append(hit.snippet.slice(at));
  return h("li", { "data-run": hit.run_id, "data-seq": hit.seq },
    h("a", { href: `#/runs/${hit.run_id}/at/${hit.seq}?q=${encodeURIComponent(q)}` },
      h("span", { class: "hit-run", text: `${hit.title || `Run #${hit.run_id}`} · #${hit.run_id}` }), snippet));
}
