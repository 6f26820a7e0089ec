// Contact screens: tab state, bulk selection, tooltips, account extra rows and the dashboard charts.
(function () {
  "use strict";

  // Tabs: the clicked tab becomes the active one (htmx swaps only the pane).
  document.addEventListener("click", (event) => {
    const link = event.target.closest(".contact-tabs [data-tab]");
    if (!link) return;
    link.closest(".contact-tabs").querySelectorAll("[data-tab]").forEach((el) => {
      el.classList.toggle("active", el === link);
      if (el === link) el.setAttribute("aria-current", "page");
      else el.removeAttribute("aria-current");
    });
  });

  // Bulk actions on the list: count the selection, select the whole page, refuse empty submits.
  function bulkState() {
    const form = document.querySelector("[data-bulk]");
    if (!form) return;
    const items = Array.from(document.querySelectorAll("[data-bulk-item]"));
    const chosen = items.filter((el) => el.checked).length;
    const label = form.querySelector("[data-bulk-count]");
    if (label) {
      label.textContent = chosen
        ? label.dataset.some.replace("__N__", String(chosen))
        : label.dataset.none;
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
      document.querySelectorAll("[data-bulk-item]").forEach((el) => {
        el.checked = event.target.checked;
      });
    }
    if (event.target.matches("[data-bulk-all], [data-bulk-item]")) bulkState();
  });
  document.addEventListener("submit", (event) => {
    if (!event.target.matches("[data-bulk]")) return;
    if (!document.querySelector("[data-bulk-item]:checked")) {
      event.preventDefault();
      const label = event.target.querySelector("[data-bulk-count]");
      if (label) label.classList.add("text-danger");
    }
  });

  // Accounts: one more key/value row.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-extra-add]");
    if (!button) return;
    const rows = button.closest("fieldset").querySelector("[data-extra-rows]");
    const last = rows.querySelector(".extra-row:last-child");
    if (!last) return;
    const row = last.cloneNode(true);
    row.querySelectorAll("input").forEach((input) => { input.value = ""; });
    rows.appendChild(row);
    row.querySelector("input").focus();
  });

  // Dashboard charts, drawn from the json_script block of the tab.
  const charts = [];
  const palette = ["#0e7c86", "#f0a500", "#5b7bd5", "#e5484d", "#35c27b", "#9b59b6", "#6c7a83"];
  function drawCharts(root) {
    const canvases = root.querySelectorAll ? root.querySelectorAll("canvas[data-chart]") : [];
    if (!canvases.length || !window.Chart) return;
    const dataEl = document.getElementById("contact-charts");
    if (!dataEl) return;
    const data = JSON.parse(dataEl.textContent);
    for (let i = charts.length - 1; i >= 0; i -= 1) {
      if (!document.body.contains(charts[i].canvas)) {
        charts[i].destroy();
        charts.splice(i, 1);
      }
    }
    canvases.forEach((canvas) => {
      const spec = data[canvas.dataset.chart];
      if (!spec || !spec.values.length || window.Chart.getChart(canvas)) return;
      const round = spec.type === "doughnut";
      charts.push(new window.Chart(canvas, {
        type: spec.type,
        data: {
          labels: spec.labels,
          datasets: [{
            data: spec.values,
            backgroundColor: round ? palette : palette[0],
            borderRadius: round ? 0 : 6,
            maxBarThickness: 48,
          }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          plugins: { legend: { display: round, position: "bottom" } },
          scales: round ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } },
        },
      }));
    });
  }

  // Settings: ask before deleting; show the options only for a "Lista de opciones" field;
  // preview a label's colour and name while choosing them.
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  function kindState() {
    const select = document.querySelector("[data-kind-select] select");
    const choices = document.querySelector("[data-choices-field]");
    if (select && choices) choices.hidden = select.value !== "choice";
  }
  function previewState() {
    const preview = document.querySelector("[data-color-preview]");
    if (!preview) return;
    const color = document.querySelector("[data-color-input]");
    const name = preview.closest("form").querySelector("input[name=name]");
    if (color) preview.style.setProperty("--label-color", color.value);
    if (name && name.value.trim()) preview.textContent = name.value.trim();
    document.querySelectorAll("[data-color-swatch]").forEach((el) => {
      const chosen = color && el.dataset.colorSwatch.toLowerCase() === color.value.toLowerCase();
      el.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
  }
  document.addEventListener("click", (event) => {
    const swatch = event.target.closest("[data-color-swatch]");
    const color = document.querySelector("[data-color-input]");
    if (!swatch || !color) return;
    color.value = swatch.dataset.colorSwatch;
    previewState();
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-color-input], input[name=name]")) previewState();
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-kind-select] select")) kindState();
  });

  function enhance(root) {
    if (window.bootstrap && root.querySelectorAll) {
      root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((el) => {
        window.bootstrap.Tooltip.getOrCreateInstance(el);
      });
    }
    drawCharts(root);
    bulkState();
    kindState();
    if (root.querySelectorAll) {
      root.querySelectorAll("[data-swatches]").forEach((el) => { el.hidden = false; });
    }
    previewState();
  }

  if (window.htmx) {
    window.htmx.onLoad(enhance);
    // A refused action (403) or a server error inside a tab: say so instead of doing nothing.
    document.body.addEventListener("htmx:responseError", (event) => {
      const status = event.detail.xhr.status;
      const strings = (document.getElementById("contacts-strings") || {}).dataset || {};
      const text = status === 403 ? strings.forbidden : strings.error;
      if (window.atiende && text) window.atiende.toast(text);
    });
  } else {
    document.addEventListener("DOMContentLoaded", () => enhance(document));
  }
})();
