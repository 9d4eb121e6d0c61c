// The respondent's pages, progressively enhanced: every page works without this script.
// - shows or hides a question whose relevance depends on an answer on the same page;
// - unticks the other choices of a question when its exclusive choice ("None of these") is ticked, and that
//   choice when another is ticked (the server refuses them together anyway);
// - saves the page's answers as the respondent goes, and says so;
// - sends a final submission once even if the button is pressed twice (the server is idempotent anyway).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  var csrf = document.querySelector('meta[name="csrf-token"]');

  function answersTo(code) {
    if (!form) { return []; }
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name === code && ((el.type !== "radio" && el.type !== "checkbox") || el.checked);
    }).map(function (el) { return el.value; });
  }

  function updateRelevance() {
    document.querySelectorAll("[data-relevant-question]").forEach(function (block) {
      var wanted = block.getAttribute("data-relevant-values").split(" ");
      var given = answersTo(block.getAttribute("data-relevant-question"));
      var relevant = given.some(function (value) { return wanted.indexOf(value) >= 0; });
      // an answer on an earlier page is not in this form: leave the server's decision alone
      if (form && !form.querySelector('[name="' + block.getAttribute("data-relevant-question") + '"]')) { return; }
      block.hidden = !relevant;
    });
  }

  function keepExclusive(box) {
    if (box.type !== "checkbox" || !box.checked) { return; }
    Array.prototype.forEach.call(form.elements, function (other) {
      if (other !== box && other.type === "checkbox" && other.name === box.name &&
          (box.hasAttribute("data-exclusive") || other.hasAttribute("data-exclusive"))) {
        other.checked = false;
      }
    });
  }

  var timer = null;
  var status = form ? form.querySelector(".save-status") : null;

  function showProblems(problems) {
    form.querySelectorAll(".question").forEach(function (block) {
      var code = block.id.slice(2);
      var message = block.querySelector(".error");
      if (!message) { return; }
      if (problems[code]) {
        message.textContent = problems[code]; message.hidden = false; block.classList.add("has-error");
      } else if (!block.classList.contains("server-error")) {
        message.hidden = true; block.classList.remove("has-error");
      }
    });
  }

  function save() {
    var body = new FormData(form);
    body.delete("action");
    fetch(form.getAttribute("data-autosave"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.content : "" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (result) {
      status.textContent = status.getAttribute("data-saved");
      showProblems(result.problems || {});
    }).catch(function () {
      status.textContent = status.getAttribute("data-failed");
    });
  }

  if (form) {
    form.querySelectorAll(".question.has-error").forEach(function (b) { b.classList.add("server-error"); });
    form.addEventListener("change", function (event) {
      keepExclusive(event.target);
      updateRelevance();
      window.clearTimeout(timer);
      timer = window.setTimeout(save, 400);
    });
    updateRelevance();
    var problems = document.getElementById("problems");
    if (problems) { problems.focus(); }
  }

  document.querySelectorAll("form").forEach(function (f) {
    if (!f.querySelector("[data-submission-id]")) { return; }
    f.addEventListener("submit", function () {
      f.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });
}());
