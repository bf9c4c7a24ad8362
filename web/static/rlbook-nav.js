/*
 * The book's two sidebar buttons, made to work at every width.
 *
 * pydata-sphinx-theme 0.17 binds its handlers to the *first* element with the class
 * `primary-toggle` (and `secondary-toggle`), which in sphinx-book-theme's layout is a header
 * button that is never shown, so the ☰ button and the page-contents button of the article header
 * do nothing (pydata-sphinx-theme #2451, sphinx-book-theme #988). This script takes every click
 * on any such button before the theme's handlers see it (a capture listener on window):
 *
 * - ☰ (primary): at 992 px and wider it shows or hides the chapter list beside the page; below,
 *   it opens the chapter list as a modal dialog, the way the theme meant to (the sidebar's nodes
 *   move into the theme's <dialog> and back when it closes).
 * - page contents (secondary): below 1200 px (where the contents column is not shown) it opens the
 *   page's contents as a dialog; at 1200 px and wider the button is hidden by the theme.
 *
 * A dialog closes with Escape, a click on its backdrop, or a click on a link inside it.
 */
(function () {
  "use strict";
  var WIDE_PRIMARY = "(min-width: 992px)";

  function move(from, to) {
    Array.from(from.childNodes).forEach(function (node) {
      to.appendChild(node);
    });
    Array.from(from.classList).forEach(function (cls) {
      from.classList.remove(cls);
      to.classList.add(cls);
    });
  }

  function pair(primary) {
    return primary
      ? [
          document.getElementById("pst-primary-sidebar"),
          document.getElementById("pst-primary-sidebar-modal"),
        ]
      : [
          document.getElementById("pst-secondary-sidebar"),
          document.getElementById("pst-secondary-sidebar-modal"),
        ];
  }

  function prepare(sidebar, dialog) {
    if (dialog.dataset.rlbookNav) return;
    dialog.dataset.rlbookNav = "1";
    // back to the page when the dialog closes (idempotent: the theme may do it as well)
    dialog.addEventListener("close", function () {
      if (dialog.childNodes.length) move(dialog, sidebar);
      if (dialog._rlbookOpener && dialog._rlbookOpener.focus) dialog._rlbookOpener.focus();
    });
    dialog.addEventListener("click", function (event) {
      var r = dialog.getBoundingClientRect();
      var outside =
        event.clientX < r.left ||
        event.clientX > r.right ||
        event.clientY < r.top ||
        event.clientY > r.bottom;
      // a backdrop click, or a link followed (same-page anchors would otherwise leave it open)
      if ((outside && event.target === dialog) || event.target.closest("a[href]")) dialog.close();
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        dialog.close();
      }
    });
  }

  function openDialog(sidebar, dialog, opener) {
    if (dialog.open) return;
    prepare(sidebar, dialog);
    move(sidebar, dialog);
    dialog._rlbookOpener = opener;
    dialog.showModal();
  }

  window.addEventListener(
    "click",
    function (event) {
      var button = event.target.closest && event.target.closest(".primary-toggle, .secondary-toggle");
      if (!button) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      var primary = button.classList.contains("primary-toggle");
      var els = pair(primary);
      var sidebar = els[0];
      var dialog = els[1];
      if (!sidebar || !dialog) return;
      if (primary && window.matchMedia(WIDE_PRIMARY).matches) {
        var hidden = sidebar.classList.toggle("pst-sidebar-hidden");
        button.setAttribute("aria-expanded", hidden ? "false" : "true");
        if (event.detail > 0) button.blur(); // a mouse click: let its tooltip go
      } else {
        openDialog(sidebar, dialog, button);
      }
    },
    true
  );

  // name the buttons for screen readers (the theme gives them a title only)
  function label() {
    document.querySelectorAll(".primary-toggle").forEach(function (b) {
      b.setAttribute("aria-label", "Chapters");
      b.setAttribute("aria-controls", "pst-primary-sidebar");
    });
    document.querySelectorAll(".secondary-toggle").forEach(function (b) {
      b.setAttribute("aria-label", "Contents of this page");
      b.setAttribute("aria-controls", "pst-secondary-sidebar");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", label);
  else label();
})();
