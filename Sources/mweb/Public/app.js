// M's web app: the router between screens (sign in, runs, one run, new run),
// the top bar (who, sign out, the connection indicator) and the service worker.
// Plain ES modules, no build step: each screen and concern is its own file.
import { $ } from "./dom.js";
import { showNewRun } from "./newrun.js";
import { setUpNotifications } from "./notifications.js";
import { showRun } from "./run.js";
import { showRuns } from "./runs.js";
import { endedMessage, showSignIn, signIn, signOut, takePairingToken, whoAmI } from "./session.js";

const view = $("view");
const conn = $("conn");
const labels = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", offline: "offline" };
let dispose = null;
let me = null;
let notificationsFor = null;  // whom the notifications switch was set up for

function setConnection(state) {
  conn.dataset.state = state;
  conn.textContent = labels[state] ?? "";
  conn.hidden = !labels[state];
}

function leave() {
  dispose?.();
  dispose = null;
  setConnection(null);
}

function signedOut(message) {
  leave();
  me = null;
  notificationsFor = null;
  $("who").textContent = "";
  $("signout").hidden = true;
  $("notify").hidden = true;
  $("notify-status").hidden = true;
  document.title = "M";
  showSignIn(view, { message, onSignedIn: (who) => { me = who; route(); } });
}

async function route() {
  leave();
  if (!me) {
    try { me = await whoAmI(); } catch (err) { signedOut(err.message); return; }
    if (!me) { signedOut(endedMessage()); return; }
  }
  if (notificationsFor !== me) { notificationsFor = me; setUpNotifications($("notify"), $("notify-status")); }
  $("who").textContent = `${me.name} · ${me.scope}`;
  $("signout").hidden = false;
  // `#/runs/ID`, or `#/runs/ID/at/SEQ?q=WORDS` from a search hit: that line scrolled to and marked.
  const run = location.hash.match(/^#\/runs\/(\d+)(?:\/at\/(\d+))?(?:\?q=(.*))?/);
  const at = run?.[2] ? { seq: Number(run[2]), q: decodeWords(run[3] ?? "") } : null;
  if (run) dispose = showRun(view, Number(run[1]), { setConnection, at });
  else if (location.hash === "#/new") dispose = showNewRun(view);
  else dispose = showRuns(view, { setConnection });
  window.scrollTo(0, 0);
}

// A hit's words from the address (a hand-edited one may not decode: then no words, the line is still shown).
function decodeWords(text) {
  try { return decodeURIComponent(text); } catch { return ""; }
}

window.addEventListener("m:unauthorized", () => { if (me) signedOut(endedMessage() || "Please sign in again."); });
window.addEventListener("hashchange", () => { if (!location.hash.startsWith("#token=")) route(); else start(); });
$("signout").addEventListener("click", async () => { await signOut(); signedOut("Signed out. Open a pairing link or paste a token to sign in again."); });

async function start() {
  const token = takePairingToken();
  if (token) {
    try { me = await signIn(token); }
    catch (err) { signedOut(`This pairing link did not sign you in: ${err.message}. Ask for a new one (mcli pair).`); return; }
  }
  await route();
}

// The service worker caches the app shell so the app opens offline; it never caches the API.
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
start();
