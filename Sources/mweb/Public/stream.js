// A live WebSocket stream that never shows a gap or a duplicate: it keeps the
// cursor of the last event it delivered and, on every close, on `online` and
// when the page becomes visible again (iOS suspends hidden pages and their
// sockets may be dead without a close), reconnects with `after=<cursor>`.
// Events at or below the cursor are dropped, so a replay that overlaps is harmless.
import { socketURL } from "./api.js";

const retryMs = [250, 500, 1000, 2000, 4000];

/**
 * Follows `path` (e.g. `/runs/7/stream`) from `after` (null: from now).
 * `key` is the cursor field (`seq` for one run, `id` for all runs).
 * `onEvent(event)` gets each event once, in order; `onState(state)` gets
 * "connecting", "live", "reconnecting" or "offline"; `onOpen(cursor)` is told
 * when a socket is open (the cursor it resumed from); `onRefused()` when a
 * socket closed before it opened (the caller may check the session).
 * Returns `stop()`.
 */
export function follow({ path, key, after = null, onEvent, onState = () => {}, onOpen = () => {}, onRefused = () => {} }) {
  let cursor = after, socket = null, stopped = false, failures = 0, timer = null;

  const connect = () => {
    clearTimeout(timer);
    timer = null;
    if (stopped) return;
    if (socket) { socket.onclose = socket.onmessage = socket.onopen = null; socket.close(); }
    if (!navigator.onLine) { socket = null; onState("offline"); return; }
    onState(failures ? "reconnecting" : "connecting");
    const ws = new WebSocket(socketURL(path, { after: cursor }));
    let opened = false;
    socket = ws;
    ws.onopen = () => { opened = true; failures = 0; onState("live"); onOpen(cursor); };
    ws.onmessage = (m) => {
      const event = JSON.parse(m.data);
      const at = event[key];
      if (cursor !== null && at <= cursor) return;
      cursor = at;
      onEvent(event);
    };
    ws.onclose = () => {
      if (socket !== ws || stopped) return;
      socket = null;
      if (!opened) { failures++; onRefused(); }
      else failures = 1;
      if (!navigator.onLine) { onState("offline"); return; }
      onState("reconnecting");
      timer = setTimeout(connect, retryMs[Math.min(failures, retryMs.length) - 1]);
    };
  };

  const online = () => connect();
  const offline = () => {
    // The socket may linger half-dead; close it now and resume from the cursor once back.
    if (socket) { socket.onclose = socket.onmessage = socket.onopen = null; socket.close(); socket = null; }
    clearTimeout(timer);
    onState("offline");
  };
  const visible = () => { if (document.visibilityState === "visible") connect(); };
  window.addEventListener("online", online);
  window.addEventListener("offline", offline);
  document.addEventListener("visibilitychange", visible);
  connect();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      document.removeEventListener("visibilitychange", visible);
      if (socket) { socket.onclose = socket.onmessage = socket.onopen = null; socket.close(); }
    },
    get cursor() { return cursor; },
  };
}
