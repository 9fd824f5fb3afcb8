// Scoring grid: autosave of drafts, what is not yet stored, and the keyboard.
// The page works without this script: the buttons post the form as usual.
//
// Keys on a criterion (the help line of the page says the same):
//   a digit        sets the level of that value and moves to the next criterion
//                  (after the last one: the first still unscored, or "Remettre")
//   up / down      previous / next criterion, nothing changes
//   left / right   move the focus between the levels, nothing changes
//   Space          chooses the level under the focus (the browser's own)
//   Enter          hands the grid in when every criterion is scored; otherwise
//                  goes to the first criterion still unscored
// On a numeric scale the note is typed in its box; up / down and the mouse
// wheel never change it.
(function () {
  "use strict";
  const form = document.getElementById("grid-form");
  if (!form) return;
  const status = document.getElementById("autosave-status");
  const alertLine = document.getElementById("grid-alert");
  const scoredCount = document.getElementById("scored-count");
  const revision = form.querySelector("input[name=revision]");
  const handIn = form.querySelector("button[name=submit]");
  const locked = form.dataset.locked === "1";
  const isOpen = form.dataset.open === "1";
  const criteria = Array.from(form.querySelectorAll(".criterion"));
  const byId = new Map(criteria.map(function (block) { return [block.dataset.criterion, block]; }));
  let timer = null;
  let saving = Promise.resolve();
  // Every change gets a number; a save that succeeds records the number it
  // carried, so the page knows whether anything typed is not yet stored.
  let changes = 0;
  let stored = 0;
  let sent = 0;
  let posting = false;
  // Criterion id -> number of its last change not yet stored.
  const unsaved = new Map();

  // --- What the page says ---------------------------------------------------

  function say(text) {
    status.textContent = text;
    status.classList.remove("text-danger", "fw-semibold");
  }

  // A refusal: the status line says "not saved" in red, the alert line why.
  function refuse(text) {
    status.textContent = "Modifications non enregistrées.";
    status.classList.add("text-danger", "fw-semibold");
    alertLine.textContent = text;
  }

  function mark(block, state, message) {
    const sign = block.querySelector(".unsaved-mark");
    const error = block.querySelector(".criterion-error");
    block.classList.toggle("is-unsaved", state === "unsaved");
    block.classList.toggle("is-refused", state === "refused");
    sign.hidden = state === "stored";
    sign.classList.toggle("text-danger", state === "refused");
    sign.classList.toggle("text-warning-emphasis", state !== "refused");
    if (state !== "refused" || message !== undefined) error.textContent = message || "";
    const inputs = block.querySelectorAll(".score-input");
    inputs.forEach(function (input) {
      if (input.type === "number") input.classList.toggle("is-invalid", Boolean(message));
    });
  }

  function scored(block) {
    const number = block.querySelector("input[type=number]");
    if (number) return number.value.trim() !== "";
    return block.querySelector("input[type=radio]:checked") !== null;
  }

  function countScored() {
    scoredCount.textContent = criteria.filter(scored).length;
  }

  function showValues(values) {
    criteria.forEach(function (block) {
      const id = block.dataset.criterion;
      const value = values["value_" + id];
      block.querySelectorAll("input[name=value_" + id + "]").forEach(function (input) {
        if (input.type === "radio") input.checked = value !== undefined && value !== null && input.value === String(value);
        else input.value = value === undefined || value === null ? "" : value;
      });
      const comment = block.querySelector("textarea[name=comment_" + id + "]");
      if (comment) comment.value = values["comment_" + id] || "";
    });
    const overall = form.querySelector("textarea[name=overall_comment]");
    if (overall) overall.value = values.overall_comment || "";
    countScored();
  }

  // --- Saving ---------------------------------------------------------------

  // What went wrong, told apart: signed out, refused, or the network.
  function failure(response, body) {
    if (response.redirected && /\/connexion\//.test(response.url)) {
      return "Votre session a expiré : reconnectez-vous dans un autre onglet, puis enregistrez. Vos dernières modifications ne sont pas enregistrées.";
    }
    if (response.status === 403) {
      return "Accès refusé : vous ne pouvez plus modifier cette grille. Vos dernières modifications ne sont pas enregistrées.";
    }
    return (body && body.error) || "Enregistrement impossible (erreur " + response.status + ").";
  }

  // Each criterion changed and not stored turns red; a refusal the server
  // gave for one field is written next to its criterion.
  function markRefused(fieldErrors) {
    unsaved.forEach(function (_, id) { if (byId.has(id)) mark(byId.get(id), "refused"); });
    let placed = 0;
    Object.keys(fieldErrors || {}).forEach(function (field) {
      const match = /^(?:value|comment)_(\d+)$/.exec(field);
      const block = match && byId.get(match[1]);
      if (!block) return;
      mark(block, "refused", fieldErrors[field].join(" "));
      placed += 1;
    });
    return placed;
  }

  function markStored(upTo) {
    unsaved.forEach(function (number, id) {
      if (number > upTo) return;
      unsaved.delete(id);
      if (byId.has(id)) mark(byId.get(id), "stored");
    });
  }

  function save() {
    clearTimeout(timer);
    timer = null;
    const data = new FormData(form);
    data.append("save", "1");
    const carried = changes;
    sent = carried;
    say("Enregistrement…");
    saving = saving.then(function () {
      data.set("revision", revision.value);
      return fetch(form.action || window.location.href, {
        method: "POST",
        body: data,
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      })
        .then(function (response) {
          const json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          return (json ? response.json() : Promise.resolve(null)).then(function (body) {
            return { response: response, body: body };
          });
        })
        .then(function (result) {
          const response = result.response;
          const body = result.body;
          if (response.ok && body && body.revision !== undefined) {
            revision.value = body.revision;
            stored = Math.max(stored, carried);
            markStored(carried);
            alertLine.textContent = "";
            say("Brouillon enregistré à " + new Date().toLocaleTimeString("fr-FR"));
            return true;
          }
          if (response.status === 409 && body) {
            // Nothing written: the stored values replace what was typed.
            revision.value = body.revision;
            showValues(body.values);
            stored = changes;
            markStored(changes);
            refuse(body.error);
            return false;
          }
          sent = stored; // to be sent again
          const placed = markRefused(body && body.errors);
          refuse(
            placed && body.errors && Object.keys(body.errors).length === placed
              ? "Enregistrement refusé : voyez le message en rouge sous le critère concerné. Rien n'a été enregistré."
              : failure(response, body)
          );
          return false;
        })
        .catch(function () {
          sent = stored;
          markRefused();
          refuse("Connexion perdue : vos dernières modifications ne sont pas enregistrées. Réessayez avec « Enregistrer le brouillon ».");
          return false;
        });
    });
    return saving;
  }

  function changed(target, delay) {
    changes += 1;
    const block = target.closest(".criterion");
    if (block) {
      unsaved.set(block.dataset.criterion, changes);
      mark(block, "unsaved");
    }
    countScored();
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  if (!locked) {
    form.addEventListener("change", function (event) {
      if (event.target.tagName !== "TEXTAREA") changed(event.target, 400);
    });
    form.addEventListener("input", function (event) {
      if (event.target.tagName === "TEXTAREA") changed(event.target, 1200);
      else if (event.target.type === "number") changed(event.target, 800);
    });

    // Handing in waits for the autosave in flight (or sends the pending one)
    // and posts with the revision it returned, so it is never refused as stale.
    form.addEventListener("submit", function (event) {
      const submitter = event.submitter;
      if (posting || !submitter || submitter.name !== "submit") return;
      event.preventDefault();
      const unsent = timer !== null || changes > sent;
      const pending = unsent ? save() : saving;
      pending.then(function (saved) {
        if (saved === false) {
          // The status line says why; nothing is handed in. The next try
          // starts afresh (what is unsent is sent again first).
          if (saving === pending) saving = Promise.resolve(true);
          return;
        }
        posting = true;
        say("Remise de la grille…");
        const marker = document.createElement("input");
        marker.type = "hidden";
        marker.name = submitter.name;
        marker.value = submitter.value || "1";
        form.appendChild(marker);
        // The button named "submit" hides form.submit: call the method itself.
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  }

  form.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) posting = true;
  });

  window.addEventListener("beforeunload", function (event) {
    if (posting || locked || (timer === null && changes <= stored)) return;
    event.preventDefault();
    event.returnValue = "";
  });

  // --- Keyboard -------------------------------------------------------------

  function focusCriterion(index) {
    const block = criteria[index];
    if (!block) return;
    const target = block.querySelector("input:checked") || block.querySelector(".score-input");
    target.focus({ preventScroll: true });
    block.scrollIntoView({ block: "nearest" });
    if (target.type === "number") target.select();
  }

  function firstUnscored() {
    return criteria.findIndex(function (block) { return !scored(block); });
  }

  // After a criterion is scored: the next one; after the last, the first
  // still unscored, or the hand-in button once all are scored.
  function moveOn(index) {
    if (index + 1 < criteria.length) return focusCriterion(index + 1);
    const missing = firstUnscored();
    if (missing >= 0) return focusCriterion(missing);
    if (handIn && !locked) {
      handIn.focus({ preventScroll: true });
      handIn.scrollIntoView({ block: "nearest" });
    }
  }

  function enter() {
    const missing = firstUnscored();
    if (missing >= 0) {
      const left = criteria.filter(function (block) { return !scored(block); }).length;
      say(left === 1 ? "Il reste 1 critère sans note." : "Il reste " + left + " critères sans note.");
      focusCriterion(missing);
    } else if (handIn && !locked) {
      form.requestSubmit(handIn);
    }
  }

  form.addEventListener("keydown", function (event) {
    const target = event.target;
    const block = target.closest(".criterion");
    if (!block || !target.classList.contains("score-input")) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return; // the browser's own shortcuts
    const index = criteria.indexOf(block);
    const radios = Array.from(block.querySelectorAll("input[type=radio]"));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault(); // a radio or a number box would change its value
      focusCriterion(index + (event.key === "ArrowDown" ? 1 : -1));
    } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && target.type === "radio") {
      event.preventDefault(); // the browser would check the neighbouring level
      const at = radios.indexOf(target) + (event.key === "ArrowRight" ? 1 : -1);
      if (at >= 0 && at < radios.length) radios[at].focus();
    } else if (event.key === "Enter") {
      event.preventDefault(); // the browser would post the form as a draft
      enter();
    } else if (/^[0-9]$/.test(event.key) && target.type === "radio") {
      event.preventDefault();
      const choice = radios.find(function (radio) { return radio.value === event.key; });
      if (!choice) {
        say(event.key + " n'est pas un niveau de l'échelle (de " + radios[0].value + " à " + radios[radios.length - 1].value + ").");
        return;
      }
      if (!choice.checked) {
        choice.checked = true;
        choice.dispatchEvent(new Event("change", { bubbles: true }));
      }
      moveOn(index);
    }
  });

  // The mouse wheel over a focused number box would change the note.
  form.querySelectorAll("input[type=number]").forEach(function (input) {
    input.addEventListener("wheel", function (event) {
      if (document.activeElement === input) event.preventDefault();
    }, { passive: false });
  });

  // On arrival the first criterion still unscored has the focus, so a digit
  // scores it at once; a complete grid puts it on "Remettre".
  if (isOpen && !locked && criteria.length) {
    const missing = firstUnscored();
    if (missing >= 0) focusCriterion(missing);
    else if (handIn) handIn.focus();
  }
})();
