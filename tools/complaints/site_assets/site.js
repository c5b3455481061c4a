/*
 * Small additions to the theme's behaviour, for every page of the site.
 *
 * 1. Search on pasted text: the theme searches when a key is released in the search box, so
 *    text pasted with the mouse, dropped, or committed by an input method without a key event
 *    found nothing until the reader pressed another key. Every change of the text now counts.
 * 2. Tables scroll by keyboard: the theme wraps each table in a scroll area in its own script;
 *    each such area becomes a named region that takes focus, so the arrow keys scroll it
 *    (WCAG 2.1.1) and a screen reader says what it is.
 */
(function () {
  "use strict";
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.classList.contains("md-search__input")) {
      target.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    }
  }, true);

  var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
  var name = zh ? "表格，可左右滚动" : "Table, scrolls sideways";
  var count = 0;

  function regions() {
    var wraps = document.querySelectorAll(".md-typeset__scrollwrap:not([tabindex])");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      var caption = "";
      // Name the table after the nearest heading above it, so regions can be told apart.
      for (var el = wrap.previousElementSibling; el; el = el.previousElementSibling) {
        if (/^H[1-6]$/.test(el.tagName)) {
          caption = el.textContent.replace(/[¶#]\s*$/, "").trim();
          break;
        }
      }
      count += 1;
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", (caption ? caption + (zh ? "：" : ": ") : "") + name + " " + count);
    }
  }

  regions();
  new MutationObserver(regions).observe(document.body, { childList: true, subtree: true });
})();
