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

// A button marked data-fill-target puts its data-fill-value into that field: the data-root browser's Pick.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-fill-target]") : null;
  if (!(button instanceof HTMLElement)) return;
  const field = document.getElementById(button.dataset.fillTarget || "");
  if (!(field instanceof HTMLInputElement)) return;
  field.value = button.dataset.fillValue || "";
  field.dispatchEvent(new Event("change", { bubbles: true }));
  button.closest(".data-browser")?.querySelectorAll(".picked").forEach((b) => b.classList.remove("picked"));
  button.classList.add("picked");
});

// Enter in a field marked data-no-submit (the browser's name filter) does not submit the form around it.
document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key === "Enter" && field instanceof HTMLElement && field.matches("[data-no-submit]")) event.preventDefault();
});
