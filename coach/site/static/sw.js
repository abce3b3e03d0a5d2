// coach's service worker, served at the site's root so that its scope is the whole site (coach serve's secret
// prefix, or a published site's folder). Kept sessions (stored by static/offline.js in the KEPT cache) are
// answered from the cache first: their episode files never change under a revision URL, and the audio gets the
// byte ranges a media element asks for, so a kept session plays and seeks with no network at all. Everything
// else (pages, the app's own files) goes to the network first, so a new revision shows at once, and falls back
// to a kept copy only when the network fails.
"use strict";
const KEPT = "coach-kept-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !request.url.startsWith(self.registration.scope)) return;
  event.respondWith(answer(request));
});

const immutable = (url) => url.slice(self.registration.scope.length).startsWith("episodes/");

async function kept(request) {
  const cache = await caches.open(KEPT);
  const found = await cache.match(request.url.split("#")[0], { ignoreSearch: true, ignoreVary: true });
  if (!found) return null;
  const range = request.headers.get("range");
  return range ? ranged(found, range) : found;
}

async function answer(request) {
  if (immutable(request.url)) {
    const found = await kept(request);
    if (found) return found;
  }
  try {
    return await fetch(request);
  } catch (error) {
    const found = await kept(request);
    if (found) return found;
    throw error;
  }
}

// One `bytes=` range of a stored response as a 206 (the cache holds whole 200 responses; a media element seeks by range).
async function ranged(response, header) {
  const blob = await response.blob();
  const size = blob.size;
  const type = response.headers.get("content-type") || "application/octet-stream";
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (!match[1] && !match[2])) {
    return new Response(blob, { status: 200, headers: { "Content-Type": type, "Content-Length": String(size), "Accept-Ranges": "bytes" } });
  }
  let start, end;
  if (!match[1]) {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  }
  if (start >= size || start > end) return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    headers: {
      "Content-Type": type,
      "Content-Length": String(end - start + 1),
      "Content-Range": `bytes ${start}-${end}/${size}`,
      "Accept-Ranges": "bytes",
    },
  });
}
