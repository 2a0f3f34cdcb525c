// Small enhancements; every flow works without this file.
(function () {
  "use strict";
  var opener = null;

  // Settings menu: close on Escape (focus back on the gear) and on a click outside.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Dialogs: content loaded by htmx into #dialog-body opens as a modal <dialog>; closing
  // returns focus to the control that opened it.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "dialog-body") opener = document.activeElement;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "dialog-body") return;
    var dialog = document.getElementById("dialog");
    if (!dialog.open) dialog.showModal();
    var focus = dialog.querySelector("[autofocus]") || dialog.querySelector("input, select, textarea, button");
    if (focus) focus.focus();
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-dialog]");
    if (!close) return;
    event.preventDefault();
    document.getElementById("dialog").close();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var dialog = document.getElementById("dialog");
    if (!dialog) return;
    dialog.addEventListener("close", function () {
      document.getElementById("dialog-body").innerHTML = "";
      if (opener && document.body.contains(opener)) opener.focus();
      opener = null;
    });
  });
})();
