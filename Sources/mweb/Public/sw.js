// M's service worker: keeps the app shell (the page, its modules, styles and
// icons) so the installed app opens without a network. The shell is fetched
// from the network first (mweb sends no-cache, so a new version is used at
// once) and the cached copy is the fallback. API calls and streams are never
// cached or touched: they pass straight through.
const cacheName = "m-shell-v1";
const shell = ["/", "/style.css", "/app.js", "/api.js", "/stream.js", "/ansi.js", "/logview.js", "/dom.js", "/session.js",
  "/runs.js", "/run.js", "/search.js", "/approvals.js", "/newrun.js", "/diffview.js", "/manifest.webmanifest", "/icon.svg", "/icon-180.png", "/icon-192.png"];

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
