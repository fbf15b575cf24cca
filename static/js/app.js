// Warm Intros: the little JavaScript there is. No inline scripts (CSP).
(function () {
  "use strict";
  // Move focus to the first field with an error after htmx swaps a form back in,
  // so keyboard and screen-reader users land where the problem is.
  document.addEventListener("htmx:afterSwap", function (event) {
    // After an outerHTML swap event.detail.target is the old, detached element;
    // the event itself is dispatched on what is now in the page.
    var target = event.target && event.target.isConnected ? event.target : event.detail && event.detail.target;
    if (!target || !target.querySelector) { return; }
    var invalid = target.querySelector("[aria-invalid='true'], .field-error input, .field-error textarea, .field-error select");
    if (invalid) { invalid.focus(); }
  });
  // Keep the server's answer for a failed form (422) so errors show next to the fields.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
