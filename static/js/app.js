// Behaviour every page shares, kept out of the markup (the Content-Security-Policy allows no inline handlers).
// A select marked data-autosubmit submits its form as soon as it changes (the list filters).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLElement && field.matches("[data-autosubmit]") && field.form) field.form.requestSubmit();
});
