// "Keep on this phone": stores a session's page, audio, moments, chapters, transcripts and cover in Cache Storage
// (the "coach-kept-v1" cache static/sw.js answers from), with progress and the space it takes; "Remove" frees it.
// A kept session whose routine was edited (the page, fetched from the network, names a new revision) is replaced
// by the new revision at once. On the library page it marks the routines that are kept.
// A service worker needs a secure context (https, or localhost): over a LAN's plain http the page says so.
"use strict";
(() => {
  const KEPT = "coach-kept-v1";
  const script = document.currentScript;
  const swUrl = new URL(script.dataset.sw, location.href);
  const scope = new URL(".", swUrl).href;
  const supported = window.isSecureContext && "serviceWorker" in navigator && "caches" in window;
  const state = { supported, kept: null, busy: false, ready: false, error: null };
  window.coachOffline = state; // for the page's tests: what is kept, and whether the worker controls the page

  const $ = (id) => document.getElementById(id);
  const recordUrl = (id) => `${scope}coach-kept/${encodeURIComponent(id)}.json`;
  const absolute = (url) => new URL(url, location.href).href.split("#")[0];
  const megabytes = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`);

  async function records() {
    const cache = await caches.open(KEPT);
    const found = {};
    for (const request of await cache.keys()) {
      if (!request.url.startsWith(`${scope}coach-kept/`)) continue;
      const record = await (await cache.match(request)).json();
      found[record.episode] = record;
    }
    return found;
  }

  async function spaceNote(bytes) {
    let note = `Kept on this phone: ${megabytes(bytes)}. It plays with no network.`;
    if (navigator.storage && navigator.storage.estimate) {
      const { usage, quota } = await navigator.storage.estimate();
      if (usage !== undefined && quota) note += ` This site stores ${megabytes(usage)} of the ${megabytes(quota)} the browser allows.`;
    }
    return note;
  }

  // Fetch every URL into the cache, counting the bytes as they arrive; the record is written last, so a half-kept
  // session is never listed as kept.
  async function store(root, onBytes) {
    const cache = await caches.open(KEPT);
    const files = JSON.parse(root.dataset.files).map(absolute);
    const shell = JSON.parse(root.dataset.shell).map(absolute);
    const urls = [absolute(location.href), ...files, ...shell];
    let received = 0;
    for (const url of urls) {
      const response = await fetch(url, { cache: "no-cache" });
      if (!response.ok) throw new Error(`${response.status} for ${url}`);
      const reader = response.body.getReader();
      const parts = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        received += value.byteLength;
        onBytes(received);
      }
      const type = response.headers.get("content-type") || "application/octet-stream";
      await cache.put(url, new Response(new Blob(parts, { type }), { headers: { "Content-Type": type } }));
    }
    const record = { episode: root.dataset.episode, revision: root.dataset.revision, title: root.dataset.title, urls: [absolute(location.href), ...files], shell, bytes: received, kept: Date.now() };
    await cache.put(recordUrl(record.episode), new Response(JSON.stringify(record), { headers: { "Content-Type": "application/json" } }));
    return record;
  }

  // Delete a record's files (those no other kept record uses; the app's own files go with the last one).
  async function forget(record, keep = null) {
    const cache = await caches.open(KEPT);
    const others = Object.values(await records()).filter((other) => other.episode !== record.episode);
    if (keep) others.push(keep);
    const used = new Set(others.flatMap((other) => [...other.urls, ...other.shell]));
    for (const url of [...record.urls, ...record.shell]) if (!used.has(url)) await cache.delete(url);
    if (!keep) await cache.delete(recordUrl(record.episode));
  }

  function setupPlayer(root) {
    const status = $("offline-status");
    const keepButton = $("keep");
    const removeButton = $("remove");
    const progress = $("keep-progress");
    const total = Number(root.dataset.bytes) || 1;
    const say = (text) => { status.textContent = text; };

    async function showKept() {
      keepButton.hidden = !!state.kept;
      removeButton.hidden = !state.kept;
      say(state.kept ? await spaceNote(state.kept.bytes) : "Keep this session on the phone to play it with no network.");
    }

    async function keep(replacing = null) {
      if (state.busy) return;
      state.busy = true;
      keepButton.hidden = true;
      progress.hidden = false;
      progress.value = 0;
      say(replacing ? "This routine changed: replacing the kept copy…" : "Keeping this session…");
      try {
        if (navigator.storage && navigator.storage.persist) await navigator.storage.persist();
        const record = await store(root, (bytes) => {
          progress.value = Math.min(1, bytes / total);
          say(`${replacing ? "Replacing" : "Keeping"}: ${Math.min(100, Math.round((100 * bytes) / total))} % of ${megabytes(total)}`);
        });
        if (replacing) await forget(replacing, record);
        state.kept = record;
        state.error = null;
        progress.hidden = true;
        await showKept();  // before busy ends: whoever waits for it reads the kept state's own line
      } catch (error) {
        state.error = String(error);
        say(`Could not keep this session (${error.message || error}); nothing half-kept stays listed.`);
        keepButton.hidden = false;
      } finally {
        progress.hidden = true;
        state.busy = false;
      }
    }

    async function remove() {
      if (!state.kept || state.busy) return;
      state.busy = true;
      try {
        await forget(state.kept);
        state.kept = null;
        await showKept();
        say(`Removed from this phone. ${status.textContent}`);
      } finally {
        state.busy = false;
      }
    }

    keepButton.addEventListener("click", () => keep());
    removeButton.addEventListener("click", remove);
    return async () => {
      state.kept = (await records())[root.dataset.episode] || null;
      if (state.kept && state.kept.revision !== root.dataset.revision) await keep(state.kept);
      else await showKept();
    };
  }

  async function markLibrary() {
    const kept = await records();
    document.querySelectorAll(".routine[data-episode]").forEach((card) => {
      const record = kept[card.dataset.episode];
      const badge = card.querySelector(".kept-badge");
      if (!record || !badge) return;
      badge.hidden = false;
      badge.textContent = record.revision === card.dataset.revision ? " · kept on this phone" : " · kept (an older version)";
    });
  }

  async function start() {
    const player = $("player");
    const section = $("offline");
    if (!supported) {
      if (section) $("offline-status").textContent = "Keeping a session on this phone needs https (a published site) or this computer's own browser.";
      state.ready = true;
      return;
    }
    const setup = player ? setupPlayer(player) : null;
    try {
      await navigator.serviceWorker.register(swUrl.href, { scope });
      await navigator.serviceWorker.ready;
      if (setup) await setup();
      else await markLibrary();
    } catch (error) {
      state.error = String(error);
      if (section) $("offline-status").textContent = `This browser cannot keep sessions (${error.message || error}).`;
    }
    state.ready = true;
  }

  start();
})();
