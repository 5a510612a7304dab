// "Turn on notifications": subscribes this browser to Web Push with the
// server's VAPID key and registers the subscription with M. The button shows
// only where the browser can push (PushManager) and the server has Web Push on
// (`mcli notify add webpush`); asking for permission needs the tap itself (iOS
// allows it only from a gesture in the installed app). Blocked notifications
// are said so, with where to allow them.
import { call } from "./api.js";

// A tapped notification (sw.js) asks an open window to show its run.
navigator.serviceWorker?.addEventListener("message", (event) => {
  const hash = event.data?.type === "m:open" ? event.data.hash : null;
  if (typeof hash === "string" && /^#\/(runs\/\d+)?$/.test(hash)) location.hash = hash;
});

/** Shows the notifications button (or why there is none) once signed in; safe to call again. */
export async function setUpNotifications(button, status) {
  button.hidden = true;
  status.hidden = true;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  let key;
  try { key = (await call("GET", "/push/vapid-key")).public_key; } catch { return; }  // Web Push is off, or a read-only token
  const registration = await navigator.serviceWorker.ready;
  const say = (text) => { status.textContent = text; status.hidden = !text; };
  let current = await registration.pushManager.getSubscription();
  if (current && !sameKey(current.options?.applicationServerKey, key)) {
    // Subscribed under another server key (M's database was replaced): pushes to it would be refused.
    await current.unsubscribe().catch(() => {});
    current = null;
  }
  if (Notification.permission === "denied") {
    say("Notifications are blocked for M: allow them in the browser's (or iOS Settings') notification settings.");
    return;
  }
  if (current && Notification.permission === "granted") {
    // Registered again each time: the server may have lost it (a 410 from an old endpoint, a restore).
    call("POST", "/push/subscriptions", current.toJSON()).catch(() => {});
    return;
  }
  button.hidden = false;
  button.onclick = async () => {
    button.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say(permission === "denied"
          ? "Notifications are blocked for M: allow them in the browser's (or iOS Settings') notification settings."
          : "Notifications stay off: tap again to allow them.");
        return;
      }
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      await call("POST", "/push/subscriptions", subscription.toJSON());
      button.hidden = true;
      say("Notifications are on.");
    } catch (err) {
      say(`Notifications could not be turned on: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  };
}

/** Whether a subscription's applicationServerKey (bytes) is the server's key (base64url). */
function sameKey(buffer, key) {
  if (!buffer) return true;  // a browser that does not say: keep the subscription
  const bytes = new Uint8Array(buffer);
  const text = atob(key.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((key.length + 3) % 4));
  return bytes.length === text.length && bytes.every((b, i) => b === text.charCodeAt(i));
}
