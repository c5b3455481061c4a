/*
 * Small additions to the theme's behaviour, for every page of the site.
 *
 * Search on pasted text: the theme searches when a key is released in the search box, so text
 * pasted with the mouse, dropped, or committed by an input method without a key event found
 * nothing until the reader pressed another key. Every change of the box's text now counts.
 */
(function () {
  "use strict";
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.classList.contains("md-search__input")) {
      target.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    }
  }, true);
})();
