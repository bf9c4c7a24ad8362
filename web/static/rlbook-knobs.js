/*
 * Accessible names for the book's sliders in the static pages.
 *
 * ipywidgets 8 draws a slider's handle with noUiSlider: an element with role="slider" whose
 * aria-valuenow is the *index* of the value (a SelectionSlider announces "0", "1", ...) and which
 * has no name, so a screen reader says "slider, 0" where the reader sees "θ = 0.15". This script
 * gives every handle the slider's label as its name (aria-label) and the value shown beside it as
 * its spoken value (aria-valuetext, e.g. "θ = 0.15"), and keeps the latter current as the handle
 * moves. The widgets are drawn after the page loads, so it watches the page for them.
 */
(function () {
  "use strict";
  var SLIDER = ".widget-slider, .widget-hslider";

  function text(node) {
    if (!node) return "";
    return (node.value !== undefined && node.value !== "" ? node.value : node.textContent).trim();
  }

  function name(slider) {
    return text(slider.querySelector(".widget-label"));
  }

  function label(slider) {
    var handle = slider.querySelector("[role='slider']");
    if (!handle) return;
    var n = name(slider);
    var value = text(slider.querySelector(".widget-readout"));
    if (n && handle.getAttribute("aria-label") !== n) handle.setAttribute("aria-label", n);
    var spoken = n && value ? n + " = " + value : value;
    if (spoken && handle.getAttribute("aria-valuetext") !== spoken) {
      handle.setAttribute("aria-valuetext", spoken);
    }
  }

  function scan(root) {
    if (!root.querySelectorAll) return;
    if (root.matches && root.matches(SLIDER)) label(root);
    Array.prototype.forEach.call(root.querySelectorAll(SLIDER), label);
  }

  function closestSlider(node) {
    var element = node.nodeType === 1 ? node : node.parentElement;
    return element && element.closest ? element.closest(SLIDER) : null;
  }

  function start() {
    scan(document);
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        var slider = closestSlider(record.target);
        if (slider) label(slider);
        Array.prototype.forEach.call(record.addedNodes, function (node) {
          if (node.nodeType === 1) scan(node);
        });
      });
    }).observe(document.body, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["aria-valuenow"],
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
