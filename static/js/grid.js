// Scoring grid: autosave of drafts and keyboard moves. The page works without
// this script: the buttons post the form as usual.
(function () {
  "use strict";
  const form = document.getElementById("grid-form");
  if (!form) return;
  const status = document.getElementById("autosave-status");
  const revision = form.querySelector("input[name=revision]");
  const locked = form.dataset.locked === "1";
  const criteria = Array.from(form.querySelectorAll(".criterion"));
  let timer = null;
  let saving = Promise.resolve();
  // Every change gets a number; a save that succeeds records the number it
  // carried, so the page knows whether anything typed is not yet stored.
  let changes = 0;
  let stored = 0;
  let sent = 0;
  let posting = false;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("text-danger", Boolean(isError));
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
  }

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
          if (response.ok && body) {
            revision.value = body.revision;
            stored = Math.max(stored, carried);
            say("Brouillon enregistré à " + new Date().toLocaleTimeString("fr-FR"));
            return true;
          }
          if (response.status === 409 && body) {
            revision.value = body.revision;
            showValues(body.values);
            stored = changes;
            say(body.error, true);
            return false;
          }
          sent = stored; // to be sent again
          say(failure(response, body), true);
          return false;
        })
        .catch(function () {
          sent = stored;
          say("Connexion perdue : vos dernières modifications ne sont pas enregistrées. Réessayez avec « Enregistrer le brouillon ».", true);
          return false;
        });
    });
    return saving;
  }

  function changed(delay) {
    changes += 1;
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  if (!locked) {
    form.addEventListener("change", function () { changed(400); });
    form.addEventListener("input", function (event) {
      if (event.target.tagName === "TEXTAREA") changed(1200);
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
          // The status line says why; nothing is handed in. The next click
          // starts afresh (what is unsent is sent again first).
          if (saving === pending) saving = Promise.resolve(true);
          return;
        }
        posting = true;
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

  function focusCriterion(index) {
    const block = criteria[index];
    if (!block) return;
    const target = block.querySelector("input:checked") || block.querySelector("input");
    target.focus();
    block.scrollIntoView({ block: "nearest" });
  }

  form.addEventListener("keydown", function (event) {
    const block = event.target.closest(".criterion");
    if (!block || event.target.tagName === "TEXTAREA") return;
    const index = criteria.indexOf(block);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      focusCriterion(index + (event.key === "ArrowDown" ? 1 : -1));
    } else if (/^[0-9]$/.test(event.key) && event.target.type === "radio") {
      const choice = block.querySelector("input[type=radio][value='" + event.key + "']");
      if (choice) {
        event.preventDefault();
        choice.checked = true;
        choice.dispatchEvent(new Event("change", { bubbles: true }));
        focusCriterion(index + 1);
      }
    }
  });
})();
