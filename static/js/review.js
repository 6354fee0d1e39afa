/* The review work page from the keyboard: one request per decision, the next item already loaded.
 *
 * Slots: #review-current (shown), #review-ahead (hidden, claimed and rendered in advance),
 * #review-back (a previous item being re-decided). A decision posts the shown item and the id of the
 * item about to be promoted ("showing"); the response is the new hidden next item.
 * Keys come from the page: any element with data-key in the shown item answers to that key.
 */
(function () {
  "use strict";
  const app = document.getElementById("review-app");
  if (!app) return;
  const slots = {
    current: document.getElementById("review-current"),
    ahead: document.getElementById("review-ahead"),
    back: document.getElementById("review-back"),
  };
  const help = document.getElementById("review-help");
  const flashBox = document.getElementById("review-flash");
  const counter = document.getElementById("review-session-count");
  let busy = false;
  let choosing = null; // the verdict button waiting for a reason number
  let sessionCount = 0;
  // The head's figures count on with each decision; they were rendered once, when the page loaded.
  const queueProgress = document.getElementById("review-queue-progress");
  function countOn(id) {
    const el = document.getElementById(id);
    if (!el) return;
    el.dataset.count = String(Number(el.dataset.count || 0) + 1);
    el.textContent = Number(el.dataset.count).toLocaleString("en-US");
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (err) {
      return "";
    }
  }

  function flash(message, level) {
    const line = document.createElement("p");
    line.className = "flash flash-" + (level || "info");
    line.textContent = message;
    flashBox.replaceChildren(line);
  }

  // A notice is about the action just taken and the item it leaves on screen: the next action clears it.
  function clearFlash() {
    flashBox.replaceChildren();
  }

  function readFlash(response) {
    const raw = response.headers.get("X-Review-Flash");
    if (!raw) return;
    try {
      const data = JSON.parse(raw);
      flash(data.message, data.level);
    } catch (err) {
      flash(raw, "info");
    }
  }

  function revising() {
    return !slots.back.hidden && slots.back.firstElementChild;
  }

  function shownItem() {
    const slot = revising() ? slots.back : slots.current;
    const node = slot.firstElementChild;
    return node && node.classList.contains("review-item") ? node : null;
  }

  function isEmpty(slot) {
    const node = slot.firstElementChild;
    return !node || node.dataset.empty === "1";
  }

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT" || target.isContentEditable);
  }

  function stopChoosing() {
    if (choosing) choosing.closest("fieldset").classList.remove("choosing");
    choosing = null;
  }

  function advance(html) {
    // Promote the pre-rendered next item, then park the newly claimed one behind it.
    slots.current.replaceChildren(...slots.ahead.childNodes);
    slots.ahead.innerHTML = html;
    if (isEmpty(slots.current) && !isEmpty(slots.ahead)) {
      slots.current.replaceChildren(...slots.ahead.childNodes);
      slots.ahead.innerHTML = "";
    }
    window.scrollTo(0, 0);
  }

  function closeBack() {
    slots.back.replaceChildren();
    slots.back.hidden = true;
    slots.current.hidden = false;
  }

  async function send(form, submitter, extra) {
    if (busy) return;
    const article = form.closest(".review-item");
    const inBack = article.parentElement === slots.back;
    const body = new FormData(form, submitter || undefined);
    Object.entries(extra || {}).forEach(([key, value]) => body.set(key, value));
    const isSkip = submitter && submitter.dataset.action === "skip";
    if (!inBack) {
      const next = slots.ahead.firstElementChild;
      body.set("showing", next && next.dataset.item ? next.dataset.item : "");
    }
    const url = submitter && submitter.getAttribute("formaction") ? submitter.getAttribute("formaction") : form.action;
    busy = true;
    article.classList.add("sending");
    stopChoosing();
    clearFlash();
    try {
      const response = await fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
      });
      readFlash(response);
      if (inBack) {
        if (response.ok) closeBack();
        return;
      }
      if (response.ok || response.status === 409) {
        if (response.ok && !isSkip) {
          sessionCount += 1;
          counter.textContent = String(sessionCount);
          countOn("review-queue-decided");
          countOn("review-today-count");
          if (queueProgress) queueProgress.value = Number(queueProgress.value) + 1;
        }
        advance(await response.text());
      } else if (response.status === 403) {
        flash("You may no longer work this queue.", "error");
      } else if (response.status !== 422) {
        flash("The server answered " + response.status + "; the decision was not saved. Try again.", "error");
      }
    } catch (err) {
      flash("The network failed; the decision was not saved. Try again.", "error");
    } finally {
      busy = false;
      article.classList.remove("sending");
    }
  }

  async function goBack() {
    if (busy) return;
    const shown = revising() ? shownItem() : null;
    const url = app.dataset.previousUrl + (shown ? "?before=" + encodeURIComponent(shown.dataset.item) : "");
    busy = true;
    clearFlash();
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } });
      readFlash(response);
      if (response.status !== 200) return;
      slots.back.innerHTML = await response.text();
      slots.back.hidden = false;
      slots.current.hidden = true;
      stopChoosing();
    } catch (err) {
      flash("The network failed; try again.", "error");
    } finally {
      busy = false;
    }
  }

  function gallery(article, step) {
    const figures = Array.from(article.querySelectorAll("[data-image-index]"));
    if (figures.length < 2) return;
    const at = figures.findIndex((f) => !f.hidden);
    const next = (at + step + figures.length) % figures.length;
    figures.forEach((f, i) => { f.hidden = i !== next; });
  }

  function zoom(article, img) {
    const target = img || article.querySelector("[data-image-index]:not([hidden]) img[data-zoomable]");
    if (!target) return;
    target.closest("[data-zoom-frame]").classList.toggle("zoomed");
  }

  function openEdit(article) {
    const panel = article.querySelector("[data-edit-panel]");
    if (!panel) return;
    panel.open = true;
    const first = panel.querySelector("textarea");
    if (first) first.focus();
  }

  function restoreOriginals(article) {
    const script = article.querySelector("[data-edit-panel] script[type='application/json']");
    if (!script) return;
    const turns = JSON.parse(script.textContent);
    article.querySelectorAll("[data-edit-panel] textarea[data-turn]").forEach((area) => {
      const turn = turns[Number(area.dataset.turn)] || {};
      const value = turn[area.dataset.role];
      area.value = value === null || value === undefined ? "" : String(value);
    });
    flash("The turns as mapped are back in the boxes; Ctrl+Enter saves them.", "info");
  }

  function act(article, element) {
    const action = element.dataset.action;
    if (action === "zoom") return zoom(article);
    if (action === "image-prev") return gallery(article, -1);
    if (action === "image-next") return gallery(article, 1);
    if (action === "edit") return openEdit(article);
    if (action === "restore-originals") return restoreOriginals(article);
    if (element.dataset.needsReason === "1") {
      stopChoosing();
      choosing = element;
      element.closest("fieldset").classList.add("choosing");
      return;
    }
    if (element.type === "submit") return element.form.requestSubmit(element);
    element.click();
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.classList || !form.classList.contains("review-form")) return;
    event.preventDefault();
    send(form, event.submitter);
  });

  document.addEventListener("click", (event) => {
    const img = event.target.closest && event.target.closest("img[data-zoomable]");
    if (img) zoom(img.closest(".review-item"), img);
    const actor = event.target.closest && event.target.closest("[data-action]");
    if (actor && actor.type !== "submit" && actor.dataset.action !== "edit") {
      event.preventDefault();
      act(actor.closest(".review-item"), actor);
    }
  });

  document.addEventListener("keydown", (event) => {
    const article = shownItem();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && article) {
      const save = article.querySelector("[data-ctrl-enter]");
      if (save && article.querySelector("[data-edit-panel]").open) {
        event.preventDefault();
        save.form.requestSubmit(save);
      }
      return;
    }
    if (event.key === "Escape") {
      if (typing(event.target)) { event.target.blur(); event.preventDefault(); return; }
      if (!help.hidden) { help.hidden = true; return; }
      if (choosing) { stopChoosing(); return; }
      const panel = article && article.querySelector("[data-edit-panel]");
      if (panel && panel.open) { panel.open = false; return; }
      if (revising()) closeBack();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?") { help.hidden = !help.hidden; event.preventDefault(); return; }
    if (!help.hidden) return;
    if (event.key === "b" || event.key === "ArrowLeft") { event.preventDefault(); goBack(); return; }
    if (event.key === "ArrowRight") { if (revising()) { event.preventDefault(); closeBack(); } return; }
    if (!article) return;
    if (choosing && /^[1-9]$/.test(event.key)) {
      const fieldset = choosing.closest("fieldset");
      const radio = fieldset.querySelector("input[data-reason-key='" + event.key + "']");
      if (radio) {
        event.preventDefault();
        radio.checked = true;
        const button = choosing;
        stopChoosing();
        button.form.requestSubmit(button);
      }
      return;
    }
    if (event.key === "n") {
      const note = article.querySelector("[data-key-focus='n']");
      if (note) { event.preventDefault(); note.focus(); }
      return;
    }
    if (event.key === "+" || event.key === "=" || event.key === "-") {
      const frame = article.querySelector("[data-image-index]:not([hidden]) [data-zoom-frame]");
      if (frame) frame.classList.toggle("zoomed", event.key !== "-");
      return;
    }
    const element = Array.from(article.querySelectorAll("[data-key]")).find((el) => el.dataset.key === event.key);
    if (element) {
      event.preventDefault();
      act(article, element);
    }
  });
})();
