// M's service worker: keeps the app shell (the page, its modules, styles and
// icons) so the installed app opens without a network. The shell is fetched
// from the network first (mweb sends no-cache, so a new version is used at
// once) and the cached copy is the fallback. API calls and streams are never
// cached or touched: they pass straight through.
// It also shows M's pushes (Web Push): every push shows a notification (iOS
// revokes the subscription of a site that pushes silently), tagged per
// approval or run so that a later push (the approval decided elsewhere, or
// expired) replaces it; a tap opens the run.
const cacheName = "m-shell-v1";
const shell = ["/", "/style.css", "/app.js", "/api.js", "/stream.js", "/ansi.js", "/logview.js", "/dom.js", "/session.js",
  "/runs.js", "/run.js", "/search.js", "/approvals.js", "/newrun.js", "/diffview.js", "/notifications.js", "/manifest.webmanifest", "/icon.svg", "/icon-180.png", "/icon-192.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(cacheName).then((cache) => cache.addAll(shell)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== cacheName).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  const key = url.pathname === "/index.html" ? "/" : url.pathname;
  if (!shell.includes(key)) return;
  event.respondWith(fetch(event.request).then((res) => {
    if (res.ok) { const copy = res.clone(); caches.open(cacheName).then((cache) => cache.put(key, copy)); }
    return res;
  }).catch(() => caches.match(key).then((hit) => hit ?? Response.error())));
});

/** Shows one push's notification; anything unreadable still shows one (never a silent push). */
function showPush(data) {
  const runId = Number.isInteger(data?.run_id) ? data.run_id : null;
  return self.registration.showNotification(typeof data?.title === "string" && data.title ? data.title : "M", {
    body: typeof data?.body === "string" && data.body ? data.body : "Something happened in M: open the app.",
    tag: typeof data?.tag === "string" && data.tag ? data.tag : "m",
    renotify: data?.type === "approval.requested",
    requireInteraction: data?.type === "approval.requested",
    icon: "/icon-192.png",
    data: { run_id: runId },
  });
}

/** Opens the notification's run (`#/runs/ID`): in an open window of the app (which moves there when told), or a new one. */
async function openFromNotification(notification) {
  const runId = notification.data?.run_id;
  const hash = Number.isInteger(runId) ? `#/runs/${runId}` : "#/";
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
  if (!open) return self.clients.openWindow(new URL(`/${hash}`, self.location.origin).href);
  open.postMessage({ type: "m:open", hash });
  await open.focus().catch(() => {});  // allowed only while handling a real click
}

self.addEventListener("push", (event) => {
  let data = null;
  try { data = event.data?.json() ?? null; } catch { data = { body: event.data?.text() ?? "" }; }
  event.waitUntil(showPush(data));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification));
});

// For tests: the click handler's work, callable without a system notification to click.
self.mOpenFromNotification = openFromNotification;
