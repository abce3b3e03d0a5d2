// The player page: shows what the session's moments.json says is happening at the audio's position.
// Nothing is derived from cue texts here: each value (exercise, side, line, countdown end, reps, next, the
// figure's picture) is looked up in the segment that contains the current time.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const root = $("player");
  const audio = $("audio");
  const state = { plan: null, segment: null, chapter: -1, handlers: [], wakeLock: null, frame: 0, picture: null };
  window.coachPlayer = state; // for the page's tests: what was set up, and what is shown

  const ACTIVITY = { intro: "Get ready", breath: "Breathe", hold: "Hold", rest: "Rest", switch: "Switch sides", outro: "Well done", end: "Done" };

  const { elapsed, remaining, countdown } = window.coachClock; // static/clock.js: coach/clock.py's rules

  // The plan's pictures (a segment's figure, a chapter's card) are named relative to the moments file.
  const pictureUrl = (name) => new URL(name, new URL(root.dataset.moments, location.href)).href;

  function segmentAt(t) { return state.plan.segments[segmentIndexAt(t)]; }

  function segmentIndexAt(t) {
    const segments = state.plan.segments;
    let low = 0, high = segments.length - 1;
    while (low < high) { // the last segment starting at or before t
      const middle = (low + high + 1) >> 1;
      if (segments[middle].start <= t) low = middle; else high = middle - 1;
    }
    return low;
  }

  function show(id, text) {
    const element = $(id);
    element.hidden = text === null || text === "";
    if (!element.hidden && element.textContent !== text) element.textContent = text;
  }

  function render() {
    if (!state.plan || !state.plan.segments.length) return;
    const t = audio.currentTime || 0;
    const index = segmentIndexAt(t);
    const s = state.plan.segments[index];
    state.segment = s;
    showFigure(s, index);
    show("activity", ACTIVITY[s.activity] || "");
    show("title", s.title);
    show("side", s.side);
    const counts = [];
    if (s.rep !== null && s.reps !== null) counts.push(`Rep ${s.rep} of ${s.reps}`);
    if (s.round !== null && s.rounds !== null && s.rounds > 1) counts.push(`Round ${s.round} of ${s.rounds}`);
    show("count", counts.join(" · "));
    show("countdown", s.countdown_end === null ? null : countdown(s.countdown_end - t));
    show("line", s.line);
    let next = "";
    if (s.next_start !== null) next = s.next_title ? `Next: ${s.next_title} in ${remaining(s.next_start - t)}` : `Next: the end, in ${remaining(s.next_start - t)}`;
    show("next", next);
    const duration = state.plan.duration;
    $("progress-fill").style.width = `${Math.min(100, (100 * t) / duration)}%`;
    $("progress").setAttribute("aria-valuenow", String(Math.round(t)));
    show("elapsed", elapsed(t));
    // The exercise the big type names (in the rest before an exercise, that one) numbers the header,
    // marks the chapter list and titles the lock screen, so they all agree with the page.
    const named = s.title_chapter === undefined ? s.chapter : s.title_chapter;
    show("position", `${named + 1}/${state.plan.chapters.length}`);
    if (named !== state.chapter) chapterChanged(named);
  }

  // The position large above the exercise: the segment's own SVG (already mirrored on the other side). When it
  // changes, the next different one is fetched ahead, so the swap on the breath cue does not wait for the network.
  function showFigure(s, index) {
    const picture = s.picture || null;
    $("figure").hidden = !picture;
    if (picture === state.picture) return;
    state.picture = picture;
    if (!picture) return;
    const img = $("figure-img");
    img.src = pictureUrl(picture);
    img.alt = `${s.title}${s.side ? `, ${s.side} side` : ""}`;
    $("figure").dataset.mirrored = String(!!s.mirrored);
    const later = state.plan.segments.slice(index + 1).find((other) => other.picture && other.picture !== picture);
    if (later) new Image().src = pictureUrl(later.picture);
  }

  function chapterChanged(index) {
    state.chapter = index;
    document.querySelectorAll("#chapters button").forEach((button, i) => button.setAttribute("aria-current", String(i === index)));
    setMetadata();
  }

  function loop() {
    render();
    state.frame = audio.paused ? 0 : requestAnimationFrame(loop);
  }

  function seek(t) {
    const duration = state.plan ? state.plan.duration : audio.duration;
    audio.currentTime = Math.max(0, Math.min(t, duration || 0));
    render();
    setPosition();
  }

  function chapterStarts() { return state.plan.chapters.map((chapter) => chapter.start); }

  function nextExercise() {
    const t = audio.currentTime;
    const later = chapterStarts().find((start) => start > t + 0.25);
    if (later !== undefined) seek(later);
  }

  function previousExercise() {
    // Like the terminal's b key: back to this exercise's start, or, right after it began, the one before.
    const t = audio.currentTime;
    const starts = chapterStarts().filter((start) => start <= t);
    const current = starts.length ? starts[starts.length - 1] : 0;
    seek(t - current < 3 && starts.length > 1 ? starts[starts.length - 2] : current);
  }

  function toggle() { if (audio.paused) audio.play(); else audio.pause(); }

  // Media Session: the lock screen and headset buttons drive the same actions as the page.
  function setMetadata() {
    if (!("mediaSession" in navigator) || !state.plan) return;
    const chapter = state.plan.chapters[Math.max(0, state.chapter)];
    // The lock screen shows the exercise's card (its figure, name and sides), the routine's cover without one.
    const artwork = [];
    if (chapter && chapter.img) artwork.push({ src: pictureUrl(chapter.img), sizes: root.dataset.cardSize, type: "image/jpeg" });
    artwork.push({ src: root.dataset.cover, sizes: "1400x1400", type: "image/png" });
    navigator.mediaSession.metadata = new MediaMetadata({
      title: chapter ? chapter.title : state.plan.title,
      artist: state.plan.title,
      album: "coach",
      artwork,
    });
  }

  function setPosition() {
    if (!("mediaSession" in navigator) || !navigator.mediaSession.setPositionState || !state.plan) return;
    try {
      navigator.mediaSession.setPositionState({
        duration: state.plan.duration,
        playbackRate: audio.playbackRate || 1,
        position: Math.min(audio.currentTime || 0, state.plan.duration),
      });
    } catch (error) { /* a position past the duration while metadata loads: the next call fixes it */ }
  }

  function setHandlers() {
    if (!("mediaSession" in navigator)) return;
    const actions = {
      play: () => audio.play(),
      pause: () => audio.pause(),
      stop: () => { audio.pause(); seek(0); },
      previoustrack: previousExercise,
      nexttrack: nextExercise,
      seekbackward: (details) => seek(audio.currentTime - ((details && details.seekOffset) || 10)),
      seekforward: (details) => seek(audio.currentTime + ((details && details.seekOffset) || 10)),
      seekto: (details) => seek(details.seekTime),
    };
    for (const [action, handler] of Object.entries(actions)) {
      try {
        navigator.mediaSession.setActionHandler(action, handler);
        state.handlers.push(action);
      } catch (error) { /* this browser does not know the action */ }
    }
  }

  // Screen Wake Lock: only in a secure context (https, or localhost); over the LAN's plain http a phone may dim.
  function wakeNote(text) { show("wake-note", text); }

  async function keepAwake() {
    if (!("wakeLock" in navigator)) {
      wakeNote(window.isSecureContext
        ? "This browser cannot keep the screen awake: lengthen the screen timeout, or play the episode in a podcast app."
        : "The screen may turn off: browsers keep it awake only for https pages. The sound goes on; lengthen the screen timeout to keep watching.");
      return;
    }
    if (state.wakeLock) return;
    try {
      state.wakeLock = await navigator.wakeLock.request("screen");
      state.wakeLock.addEventListener("release", () => { state.wakeLock = null; });
      wakeNote("");
    } catch (error) {
      wakeNote("The screen may turn off (the browser refused to keep it awake, perhaps in battery saver).");
    }
  }

  function letSleep() {
    if (state.wakeLock) state.wakeLock.release();
    state.wakeLock = null;
  }

  function buildChapters() {
    const list = $("chapters");
    const marks = $("marks");
    state.plan.chapters.forEach((chapter) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      const name = document.createElement("span");
      name.textContent = chapter.title;
      const at = document.createElement("span");
      at.textContent = elapsed(chapter.start);
      button.append(name, at);
      button.addEventListener("click", () => { seek(chapter.start); audio.play(); });
      item.append(button);
      list.append(item);
      if (chapter.start > 0) {
        const mark = document.createElement("span");
        mark.style.left = `${(100 * chapter.start) / state.plan.duration}%`;
        marks.append(mark);
      }
    });
  }

  function seekFromPointer(event) {
    const box = $("progress").getBoundingClientRect();
    seek(((event.clientX - box.left) / box.width) * state.plan.duration);
  }

  $("play").addEventListener("click", toggle);
  $("back10").addEventListener("click", () => seek(audio.currentTime - 10));
  $("prev").addEventListener("click", previousExercise);
  $("next-exercise").addEventListener("click", nextExercise);
  $("progress").addEventListener("pointerdown", (event) => { if (state.plan) seekFromPointer(event); });
  $("progress").addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") seek(audio.currentTime - 10);
    if (event.key === "ArrowRight") seek(audio.currentTime + 10);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest && event.target.closest("button, input")) return;
    if (event.key === " ") { event.preventDefault(); toggle(); }
    if (event.key === "n") nextExercise();
    if (event.key === "b") previousExercise();
  });
  audio.addEventListener("play", () => {
    document.body.classList.add("playing");
    $("play").setAttribute("aria-label", "Pause");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "playing";
    keepAwake();
    setPosition();
    loop();
  });
  audio.addEventListener("pause", () => {
    document.body.classList.remove("playing");
    $("play").setAttribute("aria-label", "Play");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "paused";
    letSleep();
    setPosition();
    render();
  });
  for (const name of ["seeked", "timeupdate", "loadedmetadata"]) audio.addEventListener(name, render);
  for (const name of ["seeked", "ratechange", "loadedmetadata"]) audio.addEventListener(name, setPosition);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !audio.paused) keepAwake(); // a lock is released when the page hides
  });

  if (!("wakeLock" in navigator) || !window.isSecureContext) keepAwake(); // say it before the first play

  fetch(root.dataset.moments)
    .then((response) => { if (!response.ok) throw new Error(response.status); return response.json(); })
    .then((plan) => {
      state.plan = plan;
      buildChapters();
      setHandlers();
      render();
      setMetadata();
      setPosition();
      root.dataset.ready = "true";
    })
    .catch(() => show("line", "Could not load this routine's timings: reload the page."));
})();
