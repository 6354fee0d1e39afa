/* The rating review from the keyboard: 1-5 rate the highlighted axis and move to the next; after the
 * fourth axis the item is saved (through the review page's own submit, review.js). Backspace goes back
 * one axis. Loaded once with the first rating item; items swapped in later use the same listener. */
(function () {
  "use strict";
  if (window.finecurateRatingKeys) return;
  window.finecurateRatingKeys = true;

  function shownRating() {
    const back = document.getElementById("review-back");
    const slot = back && !back.hidden && back.firstElementChild ? back : document.getElementById("review-current");
    const article = slot && slot.querySelector(".review-item");
    return article && article.querySelector(".rating-review") ? article : null;
  }

  function highlight(article, fieldset) {
    article.querySelectorAll(".rating-axis").forEach((f) => f.classList.toggle("current", f === fieldset));
  }

  function current(article) {
    return article.querySelector(".rating-axis.current") || article.querySelector(".rating-axis");
  }

  document.addEventListener("click", (event) => {
    const radio = event.target.closest && event.target.closest(".rating-axis input[type=radio]");
    if (!radio) return;
    const article = radio.closest(".review-item");
    const axes = Array.from(article.querySelectorAll(".rating-axis"));
    const next = axes[axes.indexOf(radio.closest(".rating-axis")) + 1];
    if (next) highlight(article, next);
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio"))) return;
    const help = document.getElementById("review-help");
    if (help && !help.hidden) return;
    const article = shownRating();
    if (!article || article.classList.contains("sending")) return;
    const axes = Array.from(article.querySelectorAll(".rating-axis"));
    const fieldset = current(article);
    if (event.key === "Backspace") {
      const previous = axes[axes.indexOf(fieldset) - 1];
      if (previous) { highlight(article, previous); event.preventDefault(); }
      return;
    }
    if (!/^[1-5]$/.test(event.key) || !fieldset) return;
    event.preventDefault();
    const radio = fieldset.querySelector("input[value='" + event.key + "']");
    if (radio) radio.checked = true;
    const next = axes[axes.indexOf(fieldset) + 1];
    if (next) { highlight(article, next); return; }
    const save = article.querySelector("button[name=verdict][value=rate]");
    if (axes.every((f) => f.querySelector("input:checked")) && save) save.form.requestSubmit(save);
  });
})();
