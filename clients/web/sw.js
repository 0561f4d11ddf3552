// Keeps the app shell (pages, code, the wasm engine) on the phone so the app opens with no
// network. The shell is cached as one set under a version that the build computes from every
// shell file (pkg/shell-version.js): a new version is fetched whole, then swapped in, so a
// phone never mixes an old engine with new page code. Data never goes through this cache:
// surveys live in IndexedDB and API requests (/v1/, /v2/, /v3/) always go to the network.

importScripts('/pkg/shell-version.js');

const CACHE_PREFIX = 'field-shell-';
const CACHE = CACHE_PREFIX + self.SHELL_VERSION;
const SHELL = [
  '/',
  '/index.html',
  '/style.css',
  '/manifest.webmanifest',
  '/icon.svg',
  '/app/backup.js',
  '/app/dom.js',
  '/app/engine.js',
  '/app/enroll_view.js',
  '/app/finished_view.js',
  '/app/form_pages.js',
  '/app/form_text.js',
  '/app/home_view.js',
  '/app/language.js',
  '/app/language_switch.js',
  '/app/main.js',
  '/app/more_view.js',
  '/app/pin_crypto.js',
  '/app/pin_view.js',
  '/app/qr_scan.js',
  '/app/question_fields.js',
  '/app/quick_exit.js',
  '/app/remove_dialog.js',
  '/app/review_view.js',
  '/app/sites_view.js',
  '/app/state.js',
  '/app/store.js',
  '/app/survey_view.js',
  '/app/sync.js',
  '/app/wipe.js',
  '/app/withdraw.js',
  '/app/words.js',
  '/pkg/survey_wasm.js',
  '/pkg/survey_wasm_bg.wasm',
];
const SHELL_PATHS = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // 'reload' skips the HTTP cache so the set is what the server has now.
    await cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  // Only the shell is answered from the cache; the analyst pages and the API are left alone.
  const path = event.request.mode === 'navigate' && url.pathname === '/' ? '/index.html' : url.pathname;
  if (!SHELL_PATHS.has(path)) return;
  event.respondWith((async () => {
    const cached = await caches.match(path, { cacheName: CACHE });
    return cached ?? fetch(event.request);
  })());
});
