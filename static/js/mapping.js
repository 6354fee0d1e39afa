// The mapping editor: which editor the curator typed in last decides what the server reads; a checkbox has no
// "changed" value, so it asks for the preview itself. Listeners sit on the document: htmx swaps the fieldsets.
(function () {
  document.addEventListener("input", function (event) {
    var fieldset = event.target.closest("fieldset[data-editor]");
    if (!fieldset) { return; }
    document.getElementById("id_editor").value = fieldset.dataset.editor;
    var target = event.target;
    if (target.name === "mode") { target.closest("fieldset").dataset.mode = target.value; }
    if (target.type === "checkbox") { htmx.trigger("#mapping-editor", "preview-now"); }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("#shuffle-button")) { return; }
    var seed = document.getElementById("id_seed");
    seed.value = (parseInt(seed.value || "0", 10) + 1).toString();
    htmx.trigger("#mapping-editor", "shuffle");
  });
  // When a suggestion finishes, show it; when an apply finishes, show its samples.
  function finished(selector) {
    var bar = document.querySelector(selector + " .job-progress");
    return bar && ["succeeded", "failed", "cancelled"].indexOf(bar.dataset.state) >= 0;
  }
  // A suggestion whose version is already stored (its job is only closing) is on this page: no reload for it.
  var suggest = document.getElementById("suggest-progress");
  var stored = suggest && suggest.dataset.versionStored === "1";
  var done = { suggest: stored || finished("#suggest-progress"), apply: finished("#apply-progress") };
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!done.suggest && finished("#suggest-progress")) { done.suggest = true; window.location.href = window.location.pathname; }
    if (!done.apply && finished("#apply-progress")) { done.apply = true; htmx.trigger(document.body, "apply-finished"); }
  });
})();
