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

  function save() {
    const data = new FormData(form);
    data.append("save", "1");
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
          return response.json().then(function (body) { return { response: response, body: body }; });
        })
        .then(function (result) {
          if (result.response.ok) {
            revision.value = result.body.revision;
            say("Brouillon enregistré à " + new Date().toLocaleTimeString("fr-FR"));
          } else if (result.response.status === 409) {
            revision.value = result.body.revision;
            showValues(result.body.values);
            say(result.body.error, true);
          } else {
            say(result.body.error || "Enregistrement impossible.", true);
          }
        })
        .catch(function () { say("Connexion perdue : utilisez « Enregistrer le brouillon ».", true); });
    });
  }

  if (!locked) {
    form.addEventListener("change", function () {
      clearTimeout(timer);
      timer = setTimeout(save, 400);
    });
    form.addEventListener("input", function (event) {
      if (event.target.tagName !== "TEXTAREA") return;
      clearTimeout(timer);
      timer = setTimeout(save, 1200);
    });
  }

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
