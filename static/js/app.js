// Behaviour every page shares, kept out of the markup (the Content-Security-Policy allows no inline handlers).
// A select marked data-autosubmit submits its form as soon as it changes (the list filters).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLElement && field.matches("[data-autosubmit]") && field.form) field.form.requestSubmit();
});

// A flash message about a job (annotate/flash.py) goes once the job's progress bar on the page shows another state.
function dropStaleJobMessages() {
  document.querySelectorAll(".messages li[data-job]").forEach((line) => {
    const bar = document.getElementById("job-" + line.dataset.job);
    if (bar && !(line.dataset.jobStates || "").split(" ").includes(bar.dataset.state)) line.remove();
  });
  document.querySelectorAll("ul.messages:empty").forEach((list) => list.remove());
}
document.addEventListener("DOMContentLoaded", dropStaleJobMessages);
document.addEventListener("htmx:afterSettle", dropStaleJobMessages);
