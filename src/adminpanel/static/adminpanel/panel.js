// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The 2FA pop-up is rendered open by the server; make it truly modal and focus what the
  // server marked (the Challenge, or Use security key for an account without an app).
  // It closes only by Verify or Cancel (both reload the page): Escape must not leave the
  // visitor on an inert login card with no way forward.
  function upgradeDialog() {
    var dialog = document.getElementById("tfa-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var input = dialog.querySelector("[autofocus]:not(:disabled)") ||
      dialog.querySelector("input[name=challenge]");
    function show() {
      if (!dialog.open) dialog.showModal();
      if (input) input.focus();
    }
    if (dialog.open) dialog.close();
    show();
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); });
    // Chromium lets a second Escape close a modal dialog even if "cancel" is prevented.
    dialog.addEventListener("close", function () { window.setTimeout(show, 0); });
  }

  function minutesText(n) { return n === 1 ? "1 minute" : n + " minutes"; }

  // Count `box`'s .countdown-value down from data-seconds-left (m:ss), then call expired().
  // Screen readers hear only the milestones (5 and 1 minutes left), through one live region.
  function countdown(box, milestoneText, expired) {
    var left = parseInt(box.getAttribute("data-seconds-left"), 10);
    var value = box.querySelector(".countdown-value");
    if (!value || isNaN(left)) return;
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    box.parentNode.insertBefore(live, box.nextSibling);
    var deadline = Date.now() + left * 1000;
    var announced = {};
    function tick() {
      var seconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      var m = Math.floor(seconds / 60), s = seconds % 60;
      if (seconds === 0) {
        expired(live);
        return;
      }
      value.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      if (seconds <= 60) box.classList.add("urgent");
      [5, 1].forEach(function (mark) {
        if (seconds <= mark * 60 && !announced[mark] && left > mark * 60) {
          announced[mark] = true;
          live.textContent = milestoneText(minutesText(mark));
        }
      });
      // wake just after the shown second runs out, so the display never skips or lags
      window.setTimeout(tick, ((deadline - Date.now()) % 1000 || 1000) + 20);
    }
    tick();
  }

  // Before a pending setup expires.
  function startSetupCountdown() {
    var box = document.getElementById("setup-countdown");
    if (!box) return;
    countdown(box, function (left) { return left + " left before this setup expires."; },
      function (live) {
        box.classList.remove("urgent");
        box.classList.add("expired");
        box.textContent = "This setup has expired. Reload the page to get a new QR code.";
        live.textContent = box.textContent;
      });
  }

  // The wait after too many wrong codes, in the 2FA pop-up: its buttons (rendered disabled)
  // come back when it ends.
  function startWaitCountdown() {
    var box = document.getElementById("wait-countdown");
    if (!box) return;
    countdown(box, function (left) { return left + " left before you can try again."; },
      function (live) {
        box.classList.remove("urgent");
        box.textContent = "You can try again now.";
        live.textContent = box.textContent;
        document.querySelectorAll("[data-wait]").forEach(function (button) {
          button.disabled = false;
        });
        var input = document.querySelector("#tfa-dialog input[name=challenge]");
        if (input) input.focus();
      });
  }

  function wireCodeButtons() {
    var status = document.querySelector(".copy-status");
    var saved = document.getElementById("codes-saved");
    function say(text) { if (status) status.textContent = text; }
    // Copy, Download and Print hand the codes over: they tick "I have saved these codes".
    function handedOver() {
      if (!saved || saved.checked) return;
      saved.checked = true;
      saved.dispatchEvent(new Event("change"));
    }
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source) return;
        var exact = button.hasAttribute("data-copy-exact");  // a DNS record: spaces matter
        var parts = exact ? [] : source.querySelectorAll("code");
        var text = exact ? source.textContent.trim() : parts.length ? Array.prototype.map.call(parts, function (c) {
          return c.textContent;
        }).join("\n") + "\n" : source.textContent.replace(/\s+/g, "");
        var failed = "Copying failed: select the text and copy it by hand.";
        if (!navigator.clipboard) {
          // Plain HTTP on another host has no clipboard API: the text is selected for Ctrl+C.
          if (exact) window.getSelection().selectAllChildren(source);
          say(exact ? "Selected: press Ctrl+C (\u2318C) to copy." : failed);
          return;
        }
        navigator.clipboard.writeText(text).then(function () {
          say(button.getAttribute("data-copied") || "Recovery codes copied.");
          if (parts.length) handedOver();
        }, function () { say(failed); });
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); handedOver(); });
    });
    document.querySelectorAll("a[download]").forEach(function (link) {
      link.addEventListener("click", handedOver);
    });
  }

  // Recovery codes shown once: Done asks for the box, leaving the page before it asks again.
  function guardCodesHandOff() {
    var form = document.querySelector("[data-codes-hand-off]");
    var saved = document.getElementById("codes-saved");
    if (!form || !saved) return;
    var message = "Copy, download or print the codes, or tick \u201cI have saved these codes\u201d.";
    function check() { saved.setCustomValidity(saved.checked ? "" : message); }
    saved.addEventListener("change", check);
    form.addEventListener("submit", check);
    check();
    window.addEventListener("beforeunload", function (event) {
      if (saved.checked) return;
      event.preventDefault();
      event.returnValue = "";  // browsers show their own "Leave site?" question
    });
  }

  // Menu sections (<details>): one open at a time; Escape or a click elsewhere closes them.
  function wireMenu() {
    var sections = document.querySelectorAll(".menu details");
    if (!sections.length) return;
    sections.forEach(function (details) {
      details.addEventListener("toggle", function () {
        if (!details.open) return;
        sections.forEach(function (other) { if (other !== details) other.open = false; });
      });
    });
    document.addEventListener("click", function (event) {
      sections.forEach(function (details) {
        if (details.open && !details.contains(event.target)) details.open = false;
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      sections.forEach(function (details) {
        if (!details.open) return;
        details.open = false;
        var summary = details.querySelector("summary");
        if (summary && details.contains(document.activeElement)) summary.focus();
      });
    });
  }

  // After a failed save the keyboard lands on the first field to correct (the summary above
  // the form is role=alert, so a screen reader reads what to correct first).
  function focusFirstError() {
    if (document.getElementById("tfa-dialog")) return;
    var field = document.querySelector("main [aria-invalid=true]");
    if (field) field.focus();
  }

  // Sub-Admin form: type to narrow the list of domains; "N chosen" beside its legend.
  function wireScopePicker() {
    var picker = document.querySelector("[data-scope-picker]");
    if (!picker) return;
    var filter = picker.querySelector("[data-scope-filter]");
    var rows = picker.querySelectorAll("[data-scope-name]");
    var count = picker.querySelector("[data-scope-count]");
    function counted() {
      var n = picker.querySelectorAll("input[type=checkbox]:checked").length;
      if (count) count.textContent = "(" + n + " chosen)";
    }
    if (filter) {
      picker.querySelector("[data-scope-filter-field]").hidden = false;
      filter.addEventListener("input", function () {
        var text = filter.value.trim().toLowerCase();
        rows.forEach(function (row) {
          row.hidden = text !== "" && row.getAttribute("data-scope-name").indexOf(text) === -1;
        });
      });
      // Enter in the filter must not submit the whole form.
      filter.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
    }
    picker.addEventListener("change", function (event) {
      // Ticking a domain means "only the domains chosen".
      var some = document.querySelector("input[name=domains_scope][value=some]");
      if (event.target.checked && some) some.checked = true;
      counted();
    });
    counted();
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireScopePicker();
    upgradeDialog();
    focusFirstError();
    startSetupCountdown();
    startWaitCountdown();
    wireCodeButtons();
    guardCodesHandOff();
    wireMenu();
  });
})();
