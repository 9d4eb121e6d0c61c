// The reporting form's script (a file of the site, as the CSP asks; the form works without it):
// - the points a value earns, shown as the reporter types, by the same methods as questionnaires/scoring.py
//   (the server computes them again on save; this is only a preview);
// - the draft saved as one types, a few seconds after the last change, and kept in this browser too, so that
//   a session that has ended loses nothing: the page offers what was typed again after the next login.
"use strict";

var YES = ["1", "yes", "y", "true", "x", "có", "co", "đạt", "dat"];
var NO = ["0", "no", "n", "false", "không", "khong", "chưa", "chua"];

function reportPoints(input) {
  var text = input.value.trim().toLowerCase();
  var maximum = parseFloat(input.dataset.maximum);
  if (!text) return null;
  if (input.dataset.method === "yes_no") {
    if (YES.indexOf(text) >= 0) return maximum;
    if (NO.indexOf(text) >= 0) return 0;
    return null;
  }
  var cleaned = text.replace(/%$/, "").replace(/\s/g, "").replace(",", ".");
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return null;
  var value = parseFloat(cleaned);
  if (input.dataset.method === "thresholds") {
    var reached = 0;
    input.dataset.steps.split(";").forEach(function (step) {
      var parts = step.split(":");
      if (value >= parseFloat(parts[0])) reached = Math.max(reached, parseFloat(parts[1]));
    });
    return Math.min(reached, maximum);
  }
  var fraction = value / (parseFloat(input.dataset.target) || 1);
  return Math.min(Math.max(fraction, 0), 1) * maximum;
}

function showPoints(input) {
  var output = document.getElementById("points-" + input.id.slice("value-".length));
  var points = reportPoints(input);
  output.textContent = points === null ? "—" : (Math.round(points * 100) / 100).toLocaleString(document.documentElement.lang);
}

function typedFields(form) {
  var kept = {};
  form.querySelectorAll("input[type=text], textarea").forEach(function (field) { kept[field.name] = field.value; });
  return kept;
}

document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("report-form");
  if (!form) return;
  var key = "report-draft:" + form.action;
  var status = document.getElementById("autosave-status");
  var timer = null;

  // what this browser kept of a save that did not reach the server (a session that had ended)
  var kept = JSON.parse(window.localStorage.getItem(key) || "null");
  if (kept) {
    Object.keys(kept).forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field && field.value !== kept[name]) field.value = kept[name];
    });
    status.textContent = status.dataset.restored;
  }

  function save() {
    window.localStorage.setItem(key, JSON.stringify(typedFields(form)));
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-Autosave": "1" }, redirect: "manual", credentials: "same-origin" })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          status.textContent = status.dataset.ended;  // kept in this browser until the next login
          return null;
        }
        return response.json().then(function (answer) {
          window.localStorage.removeItem(key);
          status.textContent = status.dataset.saved;
          form.querySelectorAll("p.autosave-error").forEach(function (node) { node.remove(); });
          Object.keys(answer.problems || {}).forEach(function (code) {
            var input = document.getElementById("value-" + code);
            var message = document.createElement("p");
            message.className = "error autosave-error";
            message.textContent = answer.problems[code];
            input.insertAdjacentElement("afterend", message);
          });
        });
      })
      .catch(function () { status.textContent = status.dataset.ended; });
  }

  form.addEventListener("input", function (event) {
    if (event.target.dataset.method) showPoints(event.target);
    window.localStorage.setItem(key, JSON.stringify(typedFields(form)));
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 3000);
  });
  form.addEventListener("submit", function () { window.localStorage.removeItem(key); });
});
