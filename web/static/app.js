// Keyboard shortcuts for reviewers (no framework, no build step).
//   queue:    j / k  next / previous row · a approve · r reject (type a reason, Enter) · o / Enter open · x select · u undo
//   artefact: a approve · r reject · j / n next item · k / p previous item
(function () {
  "use strict";

  function typing(ev) {
    var t = ev.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function submit(form) {
    if (!form) return;
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  }

  function queue() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr.row"));
    if (!rows.length) return null;
    var fromServer = rows.findIndex(function (r) { return r.classList.contains("selected"); });
    var idx = Math.max(0, fromServer);
    // The selected row takes the keyboard focus (rows have tabindex=-1), so a screen reader and the
    // browser's own focus ring follow j / k, and Tab continues from the selected row's controls.
    function select(i, focus) {
      idx = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) {
        r.classList.toggle("selected", j === idx);
        if (j === idx) r.setAttribute("aria-current", "true"); else r.removeAttribute("aria-current");
      });
      if (focus) rows[idx].focus({ preventScroll: true });
      rows[idx].scrollIntoView({ block: "nearest" });
    }
    rows.forEach(function (r, j) { r.addEventListener("click", function (ev) { if (ev.target.tagName === "TD") select(j, true); }); });
    // back from an action on a row (?at=…): the focus is where the reviewer was
    select(idx, fromServer >= 0 && new URLSearchParams(window.location.search).has("at"));
    return {
      j: function () { select(idx + 1, true); },
      k: function () { select(idx - 1, true); },
      a: function () { submit(rows[idx].querySelector("form.approve-form")); },
      r: function () { var i = rows[idx].querySelector("form.reject-form .reason"); if (i) i.focus(); },
      o: function () { window.location.href = rows[idx].dataset.href; },
      Enter: function () { window.location.href = rows[idx].dataset.href; },
      x: function () { var c = rows[idx].querySelector("input[type=checkbox]"); if (c) c.checked = !c.checked; },
      u: function () { var b = document.getElementById("undo"); if (b) submit(b.form); }
    };
  }

  function artefact() {
    var next = document.getElementById("next-link");
    var prev = document.getElementById("prev-link");
    return {
      a: function () { var b = document.getElementById("approve"); if (b && !b.disabled) submit(b.form); },
      r: function () { var i = document.querySelector("form.reject-form .reason"); if (i) i.focus(); },
      j: function () { if (next) window.location.href = next.href; },
      n: function () { if (next) window.location.href = next.href; },
      k: function () { if (prev) window.location.href = prev.href; },
      p: function () { if (prev) window.location.href = prev.href; }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.body.dataset.page;
    var keys = page === "queue" ? queue() : page === "artefact" ? artefact() : null;
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (typing(ev)) {
        if (ev.key === "Escape") ev.target.blur();
        return;
      }
      if (ev.key === "/") {
        var s = document.querySelector("input[type=search]");
        if (s) { ev.preventDefault(); s.focus(); }
        return;
      }
      if (ev.key === "Enter" && /^(A|BUTTON|SUMMARY)$/.test(ev.target.tagName)) return;  // Enter presses what has focus
      if (keys && Object.prototype.hasOwnProperty.call(keys, ev.key)) {
        ev.preventDefault();
        keys[ev.key]();
      }
    });
  });
})();
