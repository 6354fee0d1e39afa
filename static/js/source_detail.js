// When the ingest's progress bar turns finished, reload the facts and rows once (not for a job finished at load).
(function () {
  function finishedBar() {
    var bar = document.querySelector("#ingest-progress .job-progress");
    return bar && ["succeeded", "failed", "cancelled"].indexOf(bar.dataset.state) >= 0 && !bar.dataset.announced ? bar : null;
  }
  var atLoad = finishedBar();
  if (atLoad) { atLoad.dataset.announced = "1"; }
  document.body.addEventListener("htmx:afterSettle", function () {
    var bar = finishedBar();
    if (bar) { bar.dataset.announced = "1"; htmx.trigger(document.body, "ingest-finished"); }
  });
})();
