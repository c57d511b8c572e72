// RTCA's service worker: the app opens when the network is down.
//
// Everything it serves comes from the network first, so an online page is
// exactly what the server sends; a copy of each page and of the app's own
// files (the WASM bundle, its loader, the stylesheet, the icons) is kept,
// and served only when the network cannot be reached. The chat then opens
// from the last copy, says it is offline, and keeps what is typed in its
// outbox until the connection is back.
//
// Pages hold the reader's conversations, so their copies are dropped
// whenever who is signed in may change (joining, signing in or out).
// The socket, the API and files are never kept here.
//
// One worker for the whole app: Web Push (#20) will live here too.

const FILES = "rtca-files-v1";
const PAGES = "rtca-pages-v1";
const APP_FILES = ["/pkg/rtca.js", "/pkg/rtca.wasm", "/pkg/rtca.css", "/manifest.webmanifest", "/icons/rtca-192.png", "/favicon.ico"];
const IDENTITY_POSTS = ["/api/join", "/api/login", "/api/register", "/api/logout", "/api/adopt_session"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(FILES)
      .then((cache) => cache.addAll(APP_FILES))
      .catch(() => {})
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  // Copies from other versions of this worker go.
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== FILES && name !== PAGES).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && IDENTITY_POSTS.includes(url.pathname)) {
    event.waitUntil(caches.delete(PAGES));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, PAGES, "/"));
  } else if (url.pathname.startsWith("/pkg/") || url.pathname.startsWith("/icons/") || APP_FILES.includes(url.pathname)) {
    event.respondWith(networkFirst(request, FILES, null));
  }
});

/** The network's answer, kept when it is a success; else the last copy
 * (or the copy of `fallback`, the lobby, for a page never opened). */
async function networkFirst(request, cacheName, fallback) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic") {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (offline) {
    const kept = (await cache.match(request, { ignoreSearch: fallback !== null })) || (fallback && (await cache.match(fallback)));
    if (kept) return kept;
    return new Response("<!DOCTYPE html><title>RTCA: offline</title><p>RTCA is offline, and this page was never opened here before. Try again when the network is back.</p>", {
      status: 503,
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  }
}
