// The library page: copy the feed URL for a podcast app that cannot open podcast:// links.
"use strict";
(() => {
  const input = document.getElementById("feed-url");
  const button = document.getElementById("copy-feed");
  if (!input || !button) return;
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    } catch (error) {
      // The clipboard API needs a secure context; over plain http the selected text can still be copied by hand.
      button.textContent = "Selected";
    }
  });
})();
