// The console's only script (served from 'self'; no inline script under the CSP).
// - theme toggle (remembered), - confirmation before destructive actions,
// - the account picker navigates on change, - live regions refreshed by polling.
(function () {
  "use strict";
  var root = document.documentElement;
  var saved = localStorage.getItem("localtwilio-theme");
  if (saved) root.setAttribute("data-theme", saved);

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("theme");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var dark = root.getAttribute("data-theme") === "dark" ||
          (!root.getAttribute("data-theme") && matchMedia("(prefers-color-scheme: dark)").matches);
        var next = dark ? "light" : "dark";
        root.setAttribute("data-theme", next);
        localStorage.setItem("localtwilio-theme", next);
      });
    }
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    var live = document.getElementById("live");
    if (live) {
      var every = parseInt(live.getAttribute("data-poll"), 10) || 3000;
      setInterval(function () {
        if (document.hidden) return;
        fetch(location.href, { credentials: "same-origin", headers: { "X-Console-Poll": "1" } })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (text) {
            if (!text) return;
            var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("live");
            if (fresh && fresh.innerHTML !== live.innerHTML) live.innerHTML = fresh.innerHTML;
          })
          .catch(function () {});
      }, every);
    }
  });
})();
