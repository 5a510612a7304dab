// Signing in: a pairing link `URL/#token=SECRET` (from `mcli up` or `mcli pair`)
// or a pasted token is traded for the HttpOnly session cookie; the token leaves
// the address bar before anything else happens. A session that ends (expired,
// or its token revoked) sends the person back here with a message saying so.
import { call } from "./api.js";
import { h } from "./dom.js";

const pairedKey = "m.paired"; // set once signed in: a later 401 means the session ended, not "never paired"

/** The token of a pairing link in the address bar, removed from it (and from history). */
export function takePairingToken() {
  const m = location.hash.match(/^#token=([^&]+)/);
  if (!m) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return decodeURIComponent(m[1]);
}

/** Trades a token for the session cookie; answers `{name, scope}`. */
export async function signIn(token) {
  const me = await call("POST", "/session", { token });
  localStorage.setItem(pairedKey, "1");
  return me;
}

/** Ends the session (the cookie is cleared by the server). */
export async function signOut() {
  localStorage.removeItem(pairedKey);
  await call("DELETE", "/session").catch(() => {});
}

/** Who is signed in, or null. */
export async function whoAmI() {
  try { return await call("GET", "/session"); } catch (err) { if (err.status === 401) return null; throw err; }
}

/** The message for a sign-in screen reached without a session. */
export function endedMessage() {
  return localStorage.getItem(pairedKey)
    ? "Your session has ended: it expired or its token was revoked. Open a new pairing link (mcli pair) or paste a token."
    : "";
}

/** The sign-in screen in `view`; `onSignedIn(me)` once a token worked. */
export function showSignIn(view, { message = "", onSignedIn }) {
  const token = h("input", { id: "token", type: "password", autocomplete: "off", placeholder: "m_…", required: true, "aria-label": "Token" });
  const error = h("p", { id: "login-error", class: "error", role: "alert", text: message });
  const form = h("form", { id: "login-form", class: "stack" }, token, h("button", {}, "Sign in"), error);
  view.replaceChildren(h("section", { id: "login", class: "screen" },
    h("h1", {}, "Sign in to M"),
    h("p", {}, "Open the pairing link that ", h("code", {}, "mcli up"), " or ", h("code", {}, "mcli pair"),
      " shows (scan its QR code), or paste a token from ", h("code", {}, "mcli token create --scope steer"), "."),
    form));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try { const me = await signIn(token.value.trim()); token.value = ""; onSignedIn(me); }
    catch (err) { error.textContent = err.message; }
  });
}
