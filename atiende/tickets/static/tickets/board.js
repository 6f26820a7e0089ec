// The board: drag a card to another column (native HTML5 drag and drop) or use its "Mover a…"
// menu (keyboard). Both POST the same change-stage endpoint; on refusal the card goes back, and
// a refused escalation offers the escalation form.
(function () {
  "use strict";

  const board = document.getElementById("board");
  if (!board) return;
  const status = document.getElementById("board-status");
  const modalEl = document.getElementById("escalate-modal");
  const csrf = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";

  if (window.bootstrap) {
    board.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((el) => new bootstrap.Tooltip(el));
  }

  function say(text, kind) {
    status.innerHTML = "";
    if (!text) return;
    const alert = document.createElement("div");
    alert.className = "alert alert-" + kind + " alert-dismissible fade show py-2 mb-0";
    alert.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", board.dataset.close);
    alert.appendChild(close);
    status.appendChild(alert);
  }

  function column(stageId) {
    return board.querySelector('.board-col[data-stage="' + stageId + '"]');
  }

  function setCount(col, delta) {
    const badge = col.querySelector("[data-count]");
    const n = Math.max(0, Number(badge.dataset.count) + delta);
    badge.dataset.count = String(n);
    badge.textContent = String(n);
    const empty = col.querySelector(".board-empty");
    if (empty) empty.classList.toggle("d-none", !!col.querySelector(".ticket-card"));
  }

  // Put the card in the target column now; undo if the server refuses.
  function place(card, stageId) {
    const from = column(card.dataset.stage);
    const to = column(stageId);
    const cards = to.querySelector("[data-dropzone]");
    cards.insertBefore(card, cards.firstChild);
    card.dataset.stage = String(stageId);
    setCount(from, -1);
    setCount(to, +1);
    card.querySelectorAll("[data-move-form] [name=stage]").forEach((b) => {
      const here = b.value === String(stageId);
      b.disabled = here;
      if (here) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
    return { from: from, back: () => place(card, from.dataset.stage) };
  }

  async function move(card, stageId) {
    if (String(stageId) === card.dataset.stage) return;
    const sibling = card.nextElementSibling;
    const undo = place(card, stageId);
    card.classList.add("is-moving");
    say(board.dataset.moving, "secondary");
    const body = new FormData();
    body.append("stage", String(stageId));
    let response;
    let data = {};
    try {
      response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        body: body,
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        credentials: "same-origin",
      });
      data = await response.json();
    } catch (error) {
      response = null;
    }
    card.classList.remove("is-moving");
    if (response && response.ok) {
      card.classList.toggle("is-closed", !!data.closed);
      say(data.detail, "success");
      return;
    }
    undo.back();
    const list = undo.from.querySelector("[data-dropzone]");
    if (sibling && sibling.parentElement === list) list.insertBefore(card, sibling);
    if (data.escalate_url && modalEl && window.bootstrap) {
      say("", "");
      modalEl.querySelector("[data-escalate-detail]").textContent = data.detail || "";
      modalEl.querySelector("[data-escalate-link]").href = data.escalate_url;
      bootstrap.Modal.getOrCreateInstance(modalEl).show();
    } else {
      say(data.detail || board.dataset.failed, "danger");
    }
    const toggle = card.querySelector(".move-toggle");
    if (toggle) toggle.focus();
  }

  // Drag and drop.
  let dragged = null;
  board.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest(".ticket-card");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.ticket);
  });
  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    board.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
  });
  board.addEventListener("dragover", (event) => {
    const zone = event.target.closest && event.target.closest(".board-col");
    if (!zone || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".drop-target").forEach((el) => {
      if (el !== zone.querySelector("[data-dropzone]")) el.classList.remove("drop-target");
    });
    zone.querySelector("[data-dropzone]").classList.add("drop-target");
  });
  board.addEventListener("drop", (event) => {
    const zone = event.target.closest && event.target.closest(".board-col");
    if (!zone || !dragged) return;
    event.preventDefault();
    zone.querySelector("[data-dropzone]").classList.remove("drop-target");
    const card = dragged;
    dragged = null;
    card.classList.remove("is-dragging");
    move(card, zone.dataset.stage);
  });

  // "Mover a…": the same request; without JavaScript the form posts and the page reloads.
  board.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-move-form]");
    if (!form || !event.submitter) return;
    event.preventDefault();
    const card = form.closest(".ticket-card");
    const toggle = card.querySelector(".move-toggle");
    if (toggle && window.bootstrap) bootstrap.Dropdown.getOrCreateInstance(toggle).hide();
    move(card, event.submitter.value);
  });
})();
