// Progressive enhancement: the SMART check answers while a family types. Without
// JavaScript the "Check my goal" button does the same with a page load.
(function () {
  "use strict";
  var form = document.querySelector("form[data-smart-check]");
  if (!form || !window.fetch) return;
  var answer = document.getElementById("smart-check");
  var timer = null;
  function check() {
    fetch(form.getAttribute("data-smart-check"), {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Fragment": "smart-check" },
      credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) answer.innerHTML = html; })
      .catch(function () {});
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 500);
  });
})();
