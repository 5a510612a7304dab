// The new-run form: a command (multi-line shell text), a title, the agent
// kind (the kinds the server offers, from GET /agents), a PTY toggle and an
// optional repository. A 422 is shown as the server's message, and nothing
// typed is lost.
import { call } from "./api.js";
import { h } from "./dom.js";

/** Shows the form in `view`. Returns `dispose()`. */
export function showNewRun(view) {
  const command = h("textarea", { id: "new-command", rows: "4", required: true, autocapitalize: "off", autocorrect: "off",
    spellcheck: "false", placeholder: "make test" });
  const title = h("input", { id: "new-title", placeholder: "optional", autocomplete: "off" });
  const agent = h("select", { id: "new-agent" });
  const pty = h("input", { id: "new-pty", type: "checkbox" });
  const repo = h("input", { id: "new-repo", placeholder: "https://… or /path/to/checkout", autocomplete: "off", autocapitalize: "off" });
  const ref = h("input", { id: "new-ref", placeholder: "branch, tag or commit", autocomplete: "off", autocapitalize: "off" });
  const error = h("p", { id: "new-error", class: "error", role: "alert" });
  const submit = h("button", { id: "new-submit" }, "Start run");
  const form = h("form", { id: "new-run", class: "stack" },
    field("Command", command),
    field("Title", title),
    field("Agent", agent),
    h("label", { class: "check" }, pty, " Run in a terminal (PTY)"),
    h("details", {}, h("summary", {}, "Repository"), field("Repository URL or path", repo), field("Ref", ref)),
    error, submit);
  view.replaceChildren(h("section", { id: "new", class: "screen" },
    h("nav", { class: "back" }, h("a", { href: "#/", text: "‹ Runs" })), h("h1", {}, "New run"), form));

  call("GET", "/agents").then(({ agents }) => {
    agent.replaceChildren(...agents.map((a) => h("option", { value: a.kind, text: a.label ?? a.kind })));
  }).catch((err) => { error.textContent = `Cannot read the agent kinds: ${err.message}`; });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const body = { agent: agent.value || undefined, command: command.value };
    if (title.value.trim()) body.title = title.value.trim();
    if (pty.checked) body.pty = true;
    if (repo.value.trim()) body.repo = ref.value.trim() ? { url: repo.value.trim(), ref: ref.value.trim() } : { url: repo.value.trim() };
    submit.disabled = true;
    try {
      const run = await call("POST", "/runs", body);
      location.hash = `#/runs/${run.id}`;
    } catch (err) {
      error.textContent = err.status === 422 ? `Not started: ${err.message}` : err.message;
    } finally {
      submit.disabled = false;
    }
  });
  command.focus();
  return () => {};
}

function field(label, input) {
  return h("label", { class: "field" }, h("span", { text: label }), input);
}
