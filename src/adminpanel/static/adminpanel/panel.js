// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // The 2FA pop-up is rendered open by the server; make it truly modal and focus the input.
  // It closes only by Verify or Cancel (both reload the page): Escape must not leave the
  // visitor on an inert login card with no way forward.
  function upgradeDialog() {
    var dialog = document.getElementById("tfa-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var input = dialog.querySelector("input[name=challenge]");
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

  // Live countdown before a pending setup expires; screen readers hear only the milestones.
  function startCountdown() {
    var box = document.getElementById("setup-countdown");
    if (!box) return;
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
        box.classList.remove("urgent");
        box.classList.add("expired");
        box.textContent = "This setup has expired. Reload the page to get a new QR code.";
        live.textContent = box.textContent;
        return;
      }
      value.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      if (seconds <= 60) box.classList.add("urgent");
      [5, 1].forEach(function (mark) {
        if (seconds <= mark * 60 && !announced[mark] && left > mark * 60) {
          announced[mark] = true;
          live.textContent = minutesText(mark) + " left before this setup expires.";
        }
      });
      // wake just after the shown second runs out, so the display never skips or lags
      window.setTimeout(tick, ((deadline - Date.now()) % 1000 || 1000) + 20);
    }
    tick();
  }

  function wireCodeButtons() {
    var status = document.querySelector(".copy-status");
    function say(text) { if (status) status.textContent = text; }
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var list = document.getElementById(button.getAttribute("data-copy"));
        if (!list) return;
        var text = Array.prototype.map.call(list.querySelectorAll("code"), function (c) {
          return c.textContent;
        }).join("\n");
        if (!navigator.clipboard) {
          say("Copying failed: select the codes and copy them by hand.");
          return;
        }
        navigator.clipboard.writeText(text + "\n").then(function () {
          say("Recovery codes copied.");
        }, function () {
          say("Copying failed: select the codes and copy them by hand.");
        });
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
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

  document.addEventListener("DOMContentLoaded", function () {
    upgradeDialog();
    startCountdown();
    wireCodeButtons();
    wireMenu();
  });
})();
