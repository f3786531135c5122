/* Keeps the survey page, its script and style on the phone so /field opens without a network.
   Network first (always the newest page when online), the cached copy when offline. */
"use strict";
const CACHE = "ioc-field-v1";
const ASSETS = ["/field", "/static/field.js", "/static/field.css"];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (ev) => ev.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || !ASSETS.includes(url.pathname)) return;
  ev.respondWith(fetch(ev.request).then((response) => {
    const copy = response.clone();
    caches.open(CACHE).then((c) => c.put(url.pathname, copy));
    return response;
  }).catch(() => caches.match(url.pathname)));
});
