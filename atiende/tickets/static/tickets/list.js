// Tickets list and board: bulk selection, confirmations, and the advanced filter's condition rows.
(function () {
  "use strict";

  // Bulk actions: count the selection, select the whole page, refuse empty submits.
  function bulkState() {
    const form = document.querySelector("[data-bulk]");
    if (!form) return;
    const items = Array.from(document.querySelectorAll("[data-bulk-item]"));
    const chosen = items.filter((el) => el.checked).length;
    const label = form.querySelector("[data-bulk-count]");
    if (label) {
      label.textContent = chosen ? label.dataset.some.replace("__N__", String(chosen)) : label.dataset.none;
      label.classList.remove("text-danger");
    }
    form.classList.toggle("has-selection", chosen > 0);
    const all = document.querySelector("[data-bulk-all]");
    if (all) {
      all.checked = chosen > 0 && chosen === items.length;
      all.indeterminate = chosen > 0 && chosen < items.length;
    }
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-bulk-all]")) {
      document.querySelectorAll("[data-bulk-item]").forEach((el) => { el.checked = event.target.checked; });
    }
    if (event.target.matches("[data-bulk-all], [data-bulk-item]")) bulkState();
    if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("[data-bulk]") && !document.querySelector("[data-bulk-item]:checked")) {
      event.preventDefault();
      const label = form.querySelector("[data-bulk-count]");
      if (label) label.classList.add("text-danger");
      return;
    }
    // A confirmation on the form itself or on the button that submitted it.
    const submitter = event.submitter;
    const question = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Advanced filter: a new row gets the next free index; the × removes its row.
  function nextIndex() {
    const rows = document.querySelectorAll("#cond-rows .cond-row");
    let next = 0;
    rows.forEach((row) => { next = Math.max(next, Number(row.dataset.index) + 1); });
    return next;
  }
  document.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt && event.detail.elt.matches("[data-add-condition]")) {
      event.detail.parameters.i = String(nextIndex());
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.elt && event.detail.elt.id === "cond-rows") {
      const rows = event.detail.elt.querySelectorAll(".cond-row");
      const last = rows[rows.length - 1];
      if (last) last.querySelector("select").focus();
    }
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-condition]");
    if (!button) return;
    const row = button.closest(".cond-row");
    const container = row.parentElement;
    row.remove();
    const add = document.querySelector("[data-add-condition]");
    if (add && !container.querySelector(".cond-row")) add.focus();
  });
})();
