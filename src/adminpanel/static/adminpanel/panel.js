// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // The 2FA pop-up is rendered open by the server; make it truly modal and focus the input.
  function upgradeDialog() {
    var dialog = document.getElementById("tfa-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    if (dialog.open) dialog.close();
    dialog.showModal();
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); });
    var input = dialog.querySelector("input[name=challenge]");
    if (input) input.focus();
  }

  // Live countdown before a pending setup expires.
  function startCountdown() {
    var box = document.getElementById("setup-countdown");
    if (!box) return;
    var left = parseInt(box.getAttribute("data-seconds-left"), 10);
    var value = box.querySelector(".countdown-value");
    var deadline = Date.now() + left * 1000;
    function tick() {
      var seconds = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      var m = Math.floor(seconds / 60), s = seconds % 60;
      value.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      if (seconds === 0) {
        box.classList.add("expired");
        box.textContent = "This setup has expired. Reload the page to get a new QR code.";
        return;
      }
      if (seconds <= 60) box.classList.add("urgent");
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  function wireCodeButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var list = document.getElementById(button.getAttribute("data-copy"));
        var text = Array.prototype.map.call(list.querySelectorAll("code"), function (c) {
          return c.textContent;
        }).join("\n");
        var status = document.querySelector(".copy-status");
        navigator.clipboard.writeText(text).then(function () {
          if (status) status.textContent = "Recovery codes copied.";
        }, function () {
          if (status) status.textContent = "Copying failed: select the codes and copy them by hand.";
        });
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  // A code typed with a space or dash is fine; only keep the field tidy for screen readers.
  document.addEventListener("DOMContentLoaded", function () {
    upgradeDialog();
    startCountdown();
    wireCodeButtons();
  });
})();
