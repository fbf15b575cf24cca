// Warm Intros: the little JavaScript there is. No inline scripts (CSP).
(function () {
  "use strict";

  // While a request is in flight, the region it will replace is busy: assistive technology
  // waits for the new content instead of reading half a change (the visible indicator and its
  // status region say "Saving…" meanwhile). Polling (the import's progress) is not a person's
  // action and already shows its own progress, so it does not mark anything busy.
  function isPoll(elt) {
    var trigger = elt && elt.getAttribute && elt.getAttribute("hx-trigger");
    return !!trigger && /^\s*every\s/.test(trigger);
  }
  // Remember whether the keyboard focus is inside what the answer will replace, so it can be
  // put back in the new content rather than lost to the top of the page. Noted before htmx
  // disables the buttons (hx-disabled-elt), which takes the focus away from them.
  var focusWasInside = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || isPoll(event.detail.elt)) { return; }
    target.setAttribute("aria-busy", "true");
    var active = document.activeElement;
    focusWasInside = active && active !== document.body && target.contains(active) ? target : null;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail && event.detail.target;
    if (target) { target.removeAttribute("aria-busy"); }
  });

  // Suggestions under a search field (the contact list's organisations). Each is a link to the
  // filtered list, which is what it stays without JavaScript. Here, choosing one fills its field
  // and asks for the results as typing does; arrow keys move between the field and the
  // suggestions, and Escape (or a click elsewhere) puts them away.
  function suggestionsFor(field) {
    var box = field && field.closest(".suggest");
    return box ? box.querySelector("[data-suggestions]") : null;
  }
  function closeSuggestions(list) {
    if (list && list.firstChild) { list.textContent = ""; }
  }
  document.addEventListener("click", function (event) {
    var choice = event.target.closest && event.target.closest("[data-suggestion-for]");
    if (choice && event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && window.htmx) {
      var field = document.getElementById(choice.getAttribute("data-suggestion-for"));
      if (field) {
        event.preventDefault();
        var list = suggestionsFor(field);
        closeSuggestions(list);
        field.value = choice.getAttribute("data-value");
        field.focus();
        // As if typed: the field's own wait before asking starts again, so one request asks for
        // the results (a request already waiting would otherwise follow it and cancel it).
        if (list) { list.setAttribute("data-chosen", field.value); }
        field.dispatchEvent(new Event("input", { bubbles: true }));
        return;
      }
    }
    document.querySelectorAll("[data-suggestions]").forEach(function (list) {
      if (!list.closest(".suggest").contains(event.target)) { closeSuggestions(list); }
    });
  });
  // ...but the suggestions are not asked for again for what was just chosen.
  document.addEventListener("htmx:confirm", function (event) {
    var list = event.detail && event.detail.elt;
    if (!list || !list.hasAttribute || !list.hasAttribute("data-chosen")) { return; }
    var field = list.closest(".suggest").querySelector("input");
    if (field && field.value === list.getAttribute("data-chosen")) { event.preventDefault(); }
    else { list.removeAttribute("data-chosen"); }
  });
  document.addEventListener("keydown", function (event) {
    var box = event.target.closest && event.target.closest(".suggest");
    var list = box && box.querySelector("[data-suggestions]");
    if (!list) { return; }
    var field = box.querySelector("input");
    var choices = Array.prototype.slice.call(list.querySelectorAll("[data-suggestion-for]"));
    var at = choices.indexOf(event.target);
    if (event.key === "Escape" && list.firstChild) {
      event.preventDefault();  // a search field would also empty itself
      closeSuggestions(list);
      field.focus();
    } else if (event.key === "ArrowDown" && choices.length) {
      event.preventDefault();
      choices[Math.min(at + 1, choices.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      (at === 0 ? field : choices[at - 1]).focus();
    }
  });

  // A plain form that undoes something asks first (htmx forms use hx-confirm).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // Keep the server's answer for a failed form (422) so errors show next to the fields, and
  // for a rate limit (429), whose answer is the same form saying when to try again.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422 || event.detail.xhr.status === 429) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    // After an outerHTML swap event.detail.target is the old, detached element;
    // the event itself is dispatched on what is now in the page.
    var target = event.target && event.target.isConnected ? event.target : event.detail && event.detail.target;
    if (!target || !target.querySelector) { return; }
    // A form that came back with errors: focus the first field in error, so keyboard and
    // screen-reader users land where the problem is.
    var invalid = target.querySelector("[aria-invalid='true'], .field-error input, .field-error textarea, .field-error select");
    if (invalid) { focusWasInside = null; invalid.focus(); return; }
    // The focused control was replaced (a follow-up ticked off): focus what replaced it, which a
    // screen reader then reads, and Tab carries on from there. (Out-of-band swaps, such as the
    // message saying what happened, also fire this event: they are not the replacement.)
    var old = focusWasInside;
    if (!old) { return; }
    var replacement = old.isConnected ? old : (old.id ? document.getElementById(old.id) : null);
    if (replacement !== target) { return; }
    focusWasInside = null;
    var active = document.activeElement;
    if ((!active || active === document.body) && !target.querySelector("[autofocus]")) {
      if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
      target.focus();
    }
  });

  // Time zone lists (accounts.widgets.TimeZoneSelect): the device's own zone is offered first,
  // and a search box above the list narrows it as you type. Without JavaScript the list is
  // still complete, grouped by region.
  function zoneWords(name) { return name.replace(/_/g, " ").replace(/\//g, " / "); }
  function normalised(text) { return text.toLowerCase().replace(/[_/]+/g, " ").replace(/\s+/g, " ").trim(); }

  function deviceZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  function offerDeviceZone(select, zone) {
    if (!zone || select.querySelector("optgroup[data-device]")) { return; }
    var group = document.createElement("optgroup");
    group.label = "This device";
    group.setAttribute("data-device", "");
    var option = document.createElement("option");
    option.value = zone;
    option.textContent = zoneWords(zone);
    group.appendChild(option);
    // After a leading "keep it as it is" choice, before everything else.
    var first = select.firstElementChild;
    var anchor = first && first.tagName === "OPTION" && first.value === "" ? first.nextElementSibling : first;
    select.insertBefore(group, anchor);
    var errored = select.closest(".field-error");
    if (select.hasAttribute("data-choose-device") && !errored && select.value === "UTC" && zone !== "UTC") {
      option.selected = true;
    }
  }

  function addZoneSearch(select) {
    if (!select.id || document.getElementById(select.id + "_search")) { return; }
    // What the list holds, kept aside: each entry is a group label (or null) and its options.
    var all = [];
    Array.prototype.forEach.call(select.children, function (child) {
      if (child.tagName === "OPTGROUP") {
        all.push({ label: child.label, device: child.hasAttribute("data-device"), options: Array.prototype.slice.call(child.children) });
      } else {
        all.push({ label: null, device: false, options: [child] });
      }
    });
    var wrapper = document.createElement("div");
    wrapper.className = "zone-search";
    var label = document.createElement("label");
    label.htmlFor = select.id + "_search";
    label.className = "help";
    label.textContent = "Find a time zone by city or region";
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "_search";
    input.autocomplete = "off";
    input.setAttribute("aria-controls", select.id);
    var status = document.createElement("p");
    status.className = "help";
    status.id = select.id + "_search_status";
    status.setAttribute("aria-live", "polite");
    input.setAttribute("aria-describedby", status.id);
    wrapper.appendChild(label);
    wrapper.appendChild(input);
    wrapper.appendChild(status);
    select.parentNode.insertBefore(wrapper, select);

    input.addEventListener("input", function () {
      var query = normalised(input.value);
      var chosen = select.options[select.selectedIndex] || null;
      var shown = 0;
      var counted = {};  // the device's zone is also in its region: count each zone once
      var fragment = document.createDocumentFragment();
      all.forEach(function (entry) {
        var matches = entry.options.filter(function (option) {
          var found = !!query && option.value !== "" &&
            normalised(option.textContent + " " + option.value + " " + (entry.label || "")).indexOf(query) !== -1;
          if (found && !counted[option.value]) { counted[option.value] = true; shown += 1; }
          // The chosen zone stays in the list, so searching never changes the answer.
          return !query || found || option === chosen;
        });
        if (!matches.length) { return; }
        if (entry.label === null) {
          matches.forEach(function (option) { fragment.appendChild(option); });
        } else {
          var group = document.createElement("optgroup");
          group.label = entry.label;
          if (entry.device) { group.setAttribute("data-device", ""); }
          matches.forEach(function (option) { group.appendChild(option); });
          fragment.appendChild(group);
        }
      });
      select.textContent = "";
      select.appendChild(fragment);
      if (chosen) { chosen.selected = true; }
      status.textContent = !query ? "" : shown === 0 ? "No time zone matches; try a city nearby." :
        (shown === 1 ? "1 time zone matches" : shown + " time zones match") + ": choose in the list below.";
    });
  }

  function enhanceZoneSelects(root) {
    var zone = deviceZone();
    Array.prototype.forEach.call(root.querySelectorAll("select[data-time-zone]"), function (select) {
      offerDeviceZone(select, zone);
      addZoneSearch(select);
    });
  }
  enhanceZoneSelects(document);
  document.addEventListener("htmx:load", function (event) {
    if (event.target && event.target.querySelectorAll) { enhanceZoneSelects(event.target); }
  });
})();
