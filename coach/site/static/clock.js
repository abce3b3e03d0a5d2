// The player page's times, written by coach/clock.py's rules so the page shows what the terminal shows:
// a clock (elapsed) rounds down, a time left (remaining, countdown) rounds up, below zero is zero.
// Positions arrive in seconds; the core's are whole milliseconds, so each is first taken to the nearest
// millisecond (a float such as 2.9999999999999996 s is the 3000 ms the plan means).
"use strict";
(() => {
  const wholeMs = (seconds) => (Number.isFinite(seconds) ? Math.max(0, Math.round(seconds * 1000)) : 0);
  const two = (number) => String(number).padStart(2, "0");
  const minutesAndSeconds = (total) => `${two(Math.floor(total / 60))}:${two(total % 60)}`;

  window.coachClock = {
    /** `MM:SS` (minutes may pass 59), rounded down to the second: clock.elapsed. */
    elapsed: (seconds) => minutesAndSeconds(Math.floor(wholeMs(seconds) / 1000)),
    /** `MM:SS` for a time left, rounded up to the second: clock.remaining. */
    remaining: (seconds) => minutesAndSeconds(Math.ceil(wholeMs(seconds) / 1000)),
    /** Seconds left, rounded up, as `23` under a minute and `1:30` from a minute on: clock.countdown. */
    countdown: (seconds) => {
      const total = Math.ceil(wholeMs(seconds) / 1000);
      return total < 60 ? String(total) : `${Math.floor(total / 60)}:${two(total % 60)}`;
    },
  };
})();
