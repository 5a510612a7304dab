// The new-run form: a command (multi-line shell text), the last commands to
// pick again, a title, the agent kind (the kinds the server offers, from
// GET /agents), a PTY toggle, environment variables and an optional
// repository. A 422 is shown as the server's message, and nothing typed is lost.
import { call } from "./api.js";
import { h } from "./dom.js";

const recentKey = "m.recentCommands";
const recentMax = 5;

/** The last commands started from this phone, newest first. */
export function recentCommands() {
  try { return JSON.parse(localStorage.getItem(recentKey) ?? "[]").filter((c) => typeof c === "string"); } catch { return []; }
}

function remember(command) {
  const list = [command, ...recentCommands().filter((c) => c !== command)].slice(0, recentMax);
  localStorage.setItem(recentKey, JSON.stringify(list));
}

/** `KEY=value` lines → an env object; throws a message for a line that is not one. */
export function parseEnv(text) {
  const env = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    if (!m) throw new Error(`environment line ${i + 1} is not NAME=value: ${line}`);
    env[m[1]] = m[2];
  }
  return env;
}

/** Shows the form in `view`. Returns `dispose()`. */
export function showNewRun(view) {
  const command = h("textarea", { id: "new-command", rows: "4", required: true, autocapitalize: "off", autocorrect: "off",
    spellcheck: "false", placeholder: "make test" });
  const title = h("input", { id: "new-title", placeholder: "optional", autocomplete: "off" });
  const agent = h("select", { id: "new-agent" });
  const pty = h("input", { id: "new-pty", type: "checkbox" });
  const repo = h("input", { id: "new-repo", placeholder: "https://… or /path/to/checkout", autocomplete: "off", autocapitalize: "off" });
  const ref = h("input", { id: "new-ref", placeholder: "branch, tag or commit", autocomplete: "off", autocapitalize: "off" });
  const env = h("textarea", { id: "new-env", rows: "3", autocapitalize: "off", autocorrect: "off", spellcheck: "false",
    placeholder: "NAME=value, one a line" });
  const error = h("p", { id: "new-error", class: "error", role: "alert" });
  const recent = recentCommands();
  const picks = recent.length ? h("div", { id: "new-recent", class: "recent" }, h("span", { class: "facts", text: "Again:" }),
    recent.map((c) => h("button", { type: "button", class: "secondary chip", title: c, onclick: () => { command.value = c; command.focus(); } },
      c.split("\n")[0].slice(0, 40)))) : null;
  const submit = h("button", { id: "new-submit" }, "Start run");
  const form = h("form", { id: "new-run", class: "stack" },
    field("Command", command),
    picks,
    field("Title", title),
    field("Agent", agent),
    h("label", { class: "check" }, pty, " Run in a terminal (PTY)"),
    h("details", { id: "new-env-box" }, h("summary", {}, "Environment"), field("Environment variables", env)),
    h("details", { id: "new-repo-box" }, h("summary", {}, "Repository"), field("Repository URL or path", repo), field("Ref", ref)),
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
    try {
      const vars = parseEnv(env.value);
      if (Object.keys(vars).length) body.env = vars;
    } catch (err) { error.textContent = `Not started: ${err.message}`; return; }
    if (repo.value.trim()) body.repo = ref.value.trim() ? { url: repo.value.trim(), ref: ref.value.trim() } : { url: repo.value.trim() };
    submit.disabled = true;
    try {
      const run = await call("POST", "/runs", body);
      remember(command.value);
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
