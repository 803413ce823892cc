/**
 * The demo's offline shell: the built files are cached at install, so the app opens (and a
 * reload works) without a network. Pages and files: network first, cache when offline, so a
 * new build shows up at once when online. The API is never cached: data lives in SQLite.
 * The build (vite.config.ts) fills PRECACHE in with the list of built files.
 */
const CACHE = 'ferry-todo-shell-v1';
const PRECACHE = __PRECACHE__;
const API = /^\/(v\d+\/|v\d+$|health)/;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(['/', ...PRECACHE]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || API.test(url.pathname)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          const key = event.request.mode === 'navigate' ? '/' : event.request;
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
        }
        return response;
      })
      .catch(async () => {
        // Offline: any page is the app (client-side routes), any file its cached copy.
        const cached = await caches.match(event.request.mode === 'navigate' ? '/' : event.request);
        return cached ?? Response.error();
      }),
  );
});
