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
// One worker for the whole app: it also shows Web Pushes (see the end).

const FILES = "rtca-files-v1";
const PAGES = "rtca-pages-v1";
const APP_FILES = ["/pkg/rtca.js", "/pkg/rtca.wasm", "/pkg/rtca.css", "/manifest.webmanifest", "/icons/rtca-192.png", "/favicon.ico", "/favicon-unread.svg"];
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

/** Offline, for a page with no copy here: in both of the interface's
 * languages, since a worker cannot tell which one the reader picked. */
const NEVER_OPENED = `<!DOCTYPE html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>RTCA: offline · 离线</title>
<p>RTCA is offline, and this page was never opened here before. Try again when the network is back.</p>
<p lang="zh-CN">RTCA 已离线，这个页面此前从未在这里打开过。网络恢复后请再试一次。</p></html>`;

/** The chat's own pages (the server's CHAT_PATHS): the only pages kept.
 * Files opened in a tab, search results and anything else are not. */
function isChatPage(path) {
  return path === "/" || /^\/(r|dm)\/[^/]+$/.test(path);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && IDENTITY_POSTS.includes(url.pathname)) {
    event.waitUntil(caches.delete(PAGES));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && isChatPage(url.pathname)) {
    // Kept by path: a copy of the page, whatever its query said.
    event.respondWith(networkFirst(event, PAGES, url.pathname));
  } else if (url.pathname.startsWith("/pkg/") || url.pathname.startsWith("/icons/") || APP_FILES.includes(url.pathname)) {
    event.respondWith(networkFirst(event, FILES, url.pathname));
  }
});

/** The network's answer, its copy kept (after it is returned) when it is
 * a success; else the last copy (for a page never opened here, the
 * lobby's). A new build of the app drops the page copies, which the old
 * build rendered: hydrating one with the new bundle would fail. */
async function networkFirst(event, cacheName, key) {
  const cache = await caches.open(cacheName);
  let response;
  try {
    response = await fetch(event.request);
  } catch (offline) {
    const kept = (await cache.match(key)) || (cacheName === PAGES && (await cache.match("/")));
    if (kept) return kept;
    return new Response(NEVER_OPENED, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
  if (response.ok && response.type === "basic") {
    const copy = response.clone();
    event.waitUntil(
      (async () => {
        if (key === "/pkg/rtca.wasm") {
          const old = await cache.match(key);
          const changed = (r) => r.headers.get("etag") || r.headers.get("last-modified");
          if (old && changed(old) !== changed(copy)) await caches.delete(PAGES);
        }
        await cache.put(key, copy);
      })().catch(() => {}),
    );
  }
  return response;
}

// Web Push: what would have notified someone while none of their tabs is
// open. The server encrypts it for this device (the browser decrypts it):
// `{title, body, tag, url}` (docs/protocol.md). One notification per
// conversation (`tag`), the newest replacing the one before; a click opens
// the message, in a tab of the app if one is open, else in a new one.
self.addEventListener("push", (event) => {
  let notice = null;
  try {
    notice = event.data ? event.data.json() : null;
  } catch (unreadable) {
    notice = null;
  }
  if (!notice || typeof notice.title !== "string") return;
  const url = typeof notice.url === "string" && notice.url.startsWith("/") ? notice.url : "/";
  event.waitUntil(
    self.registration.showNotification(notice.title, {
      body: typeof notice.body === "string" ? notice.body : "",
      tag: typeof notice.tag === "string" ? notice.tag : undefined,
      renotify: typeof notice.tag === "string",
      icon: "/icons/rtca-192.png",
      data: { url },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((tabs) => {
      const tab = tabs.find((client) => new URL(client.url).origin === self.location.origin && "focus" in client);
      const open = () => self.clients.openWindow(target.href);
      // A tab this worker does not control cannot be navigated: a new one.
      if (tab) return tab.navigate(target.href).then((opened) => (opened || tab).focus()).catch(open);
      return open();
    }),
  );
});
