// The ticket page, the new-ticket form and the escalation form: pasted screenshots, thumbnails,
// @mentions in notes, the small rich-text editor and the Tech Issues section of the create form.
// Everything works without this file (plain forms); this only makes it quicker.
(function () {
  "use strict";

  const page = document.getElementById("ticket-page");
  const stringsEl = document.getElementById("ticket-strings");
  const strings = stringsEl ? stringsEl.dataset : {};

  function toast(text) {
    if (window.atiende && window.atiende.toast) window.atiende.toast(text);
  }

  // --- errors from htmx requests (403 and the like) ---------------------------------------
  document.body.addEventListener("htmx:responseError", (e) => {
    const status = e.detail.xhr.status;
    toast(status === 403 ? strings.forbidden || "403" : strings.error || String(status));
  });

  // --- show / hide an editor ---------------------------------------------------------------
  document.addEventListener("click", (e) => {
    const toggle = e.target.closest("[data-edit-toggle]");
    if (!toggle) return;
    const target = document.querySelector(toggle.dataset.editToggle);
    if (!target) return;
    const view = document.getElementById("desc-view");
    target.hidden = !target.hidden;
    if (view) view.hidden = !target.hidden;
    document.querySelectorAll(`[data-edit-toggle="${toggle.dataset.editToggle}"]`).forEach((b) =>
      b.setAttribute("aria-expanded", String(!target.hidden))
    );
    if (!target.hidden) {
      const editable = target.querySelector("[contenteditable]") || target.querySelector("textarea");
      if (editable) editable.focus();
    }
  });

  // --- the rich-text editor: a contenteditable kept in sync with its textarea ---------------
  const TOOLS = [
    ["bold", "type-bold", strings.bold],
    ["italic", "type-italic", strings.italic],
    ["underline", "type-underline", strings.underline],
    ["insertUnorderedList", "list-ul", strings.list],
    ["insertOrderedList", "list-ol", strings.numbered],
  ];

  function looksLikeHtml(text) {
    return /<[a-z/][^>]*>/i.test(text);
  }

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function richEditor(textarea) {
    if (textarea.dataset.richReady) return;
    textarea.dataset.richReady = "1";
    const wrap = document.createElement("div");
    wrap.className = "rich-editor border rounded";
    const bar = document.createElement("div");
    bar.className = "rich-toolbar d-flex gap-1 p-1 border-bottom bg-body-tertiary";
    bar.setAttribute("role", "toolbar");
    TOOLS.forEach(([command, icon, label]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-light";
      button.title = label;
      button.setAttribute("aria-label", label);
      button.innerHTML = `<i class="bi bi-${icon}" aria-hidden="true"></i>`;
      button.addEventListener("click", () => {
        area.focus();
        document.execCommand(command, false, null);
        sync();
      });
      bar.appendChild(button);
    });
    const area = document.createElement("div");
    area.className = "rich-area form-control border-0 rich-text";
    area.contentEditable = "true";
    area.setAttribute("role", "textbox");
    area.setAttribute("aria-multiline", "true");
    const label = textarea.id && document.querySelector(`label[for="${textarea.id}"]`);
    if (label) area.setAttribute("aria-label", label.textContent.trim());
    const value = textarea.value.trim();
    area.innerHTML = looksLikeHtml(value) ? value : escapeHtml(value).replace(/\n/g, "<br>");
    function sync() {
      const html = area.innerHTML.trim();
      textarea.value = html === "<br>" ? "" : html;
    }
    area.addEventListener("focus", () => document.execCommand("defaultParagraphSeparator", false, "p"));
    area.addEventListener("input", sync);
    area.addEventListener("blur", sync);
    wrap.appendChild(bar);
    wrap.appendChild(area);
    textarea.hidden = true;
    textarea.insertAdjacentElement("afterend", wrap);
  }

  function initRich(root) {
    (root || document).querySelectorAll("textarea[data-rich]").forEach(richEditor);
  }
  initRich();
  document.body.addEventListener("htmx:afterSwap", (e) => initRich(e.target));

  // --- files: pasted screenshots and chosen files, with thumbnails --------------------------
  function inputFor(el) {
    const holder = el.closest("[data-paste-target]");
    if (holder) return document.querySelector(holder.dataset.pasteTarget);
    const zones = Array.from(document.querySelectorAll(".paste-zone")).filter(
      (z) => !z.closest("[hidden]")
    );
    return zones.length === 1 ? document.querySelector(zones[0].dataset.pasteTarget) : null;
  }

  function previewsFor(input) {
    const holder = input.closest("[data-paste-target]") || input.parentElement;
    return holder.querySelector(".paste-previews");
  }

  function tooBig(input, file) {
    const mb = parseFloat(input.dataset.maxMb || "0");
    return mb && file.size > mb * 1024 * 1024;
  }

  function tooBigText(input, file) {
    return `${file.name}: ${(strings.tooBig || "{mb} MB").replace("{mb}", input.dataset.maxMb)}`;
  }

  function setFiles(input, files) {
    const transfer = new DataTransfer();
    files.forEach((f) => transfer.items.add(f));
    input.files = transfer.files;
    renderPreviews(input);
  }

  function renderPreviews(input) {
    const box = previewsFor(input);
    if (!box) return;
    box.innerHTML = "";
    Array.from(input.files).forEach((file, index) => {
      const item = document.createElement("div");
      item.className = "paste-preview";
      item.dataset.file = file.name;
      if (file.type.startsWith("image/")) {
        const img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        img.onload = () => URL.revokeObjectURL(img.src);
        item.appendChild(img);
      } else {
        const chip = document.createElement("span");
        chip.className = "file-chip small";
        chip.textContent = file.name;
        item.appendChild(chip);
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn-close paste-remove";
      remove.setAttribute("aria-label", `${strings.remove || "×"} ${file.name}`);
      remove.addEventListener("click", () => {
        const kept = Array.from(input.files).filter((_f, i) => i !== index);
        setFiles(input, kept);
      });
      item.appendChild(remove);
      box.appendChild(item);
    });
  }

  function addFiles(input, incoming) {
    const accepted = [];
    incoming.forEach((file) => {
      if (tooBig(input, file)) {
        toast(tooBigText(input, file));
      } else {
        accepted.push(file);
      }
    });
    setFiles(input, Array.from(input.files).concat(accepted));
  }

  document.addEventListener("paste", (e) => {
    const items = Array.from((e.clipboardData && e.clipboardData.items) || []);
    const images = items.filter((i) => i.kind === "file" && i.type.startsWith("image/"));
    if (!images.length) return;
    const input = inputFor(e.target);
    if (!input) return;
    e.preventDefault();
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    const files = images.map((item, n) => {
      const blob = item.getAsFile();
      const ext = (blob.type.split("/")[1] || "png").replace("jpeg", "jpg");
      return new File([blob], `captura-${stamp}${n ? "-" + n : ""}.${ext}`, { type: blob.type });
    });
    addFiles(input, files);
  });

  document.addEventListener("change", (e) => {
    const input = e.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    if (!input.closest("[data-paste-target], .paste-zone, .note-form")) return;
    const big = Array.from(input.files).filter((f) => tooBig(input, f));
    if (big.length) {
      big.forEach((f) => toast(tooBigText(input, f)));
      setFiles(input, Array.from(input.files).filter((f) => !tooBig(input, f)));
      return;
    }
    renderPreviews(input);
  });

  // --- @mentions in the note composer ------------------------------------------------------
  let mention = null; // {textarea, popup, start, items, index}

  function closeMentions() {
    if (mention) mention.popup.hidden = true;
    mention = null;
  }

  function tokenBefore(textarea) {
    const upto = textarea.value.slice(0, textarea.selectionStart);
    const match = /(^|\s)@([\w.\-]*)$/.exec(upto);
    return match ? { query: match[2], start: upto.length - match[2].length - 1 } : null;
  }

  async function openMentions(textarea, token) {
    const url = (page && page.dataset.mentionsUrl) || "";
    const popup = textarea.parentElement.querySelector(".mention-popup");
    if (!url || !popup) return;
    const response = await fetch(`${url}?q=${encodeURIComponent(token.query)}`, {
      headers: { "HX-Request": "true" },
    });
    if (!response.ok) return;
    popup.innerHTML = await response.text();
    const items = Array.from(popup.querySelectorAll(".mention-item"));
    popup.hidden = !items.length && !token.query;
    mention = { textarea, popup, start: token.start, items, index: 0 };
    if (!items.length) popup.hidden = false;
  }

  function choose(username) {
    if (!mention) return;
    const { textarea, start } = mention;
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(textarea.selectionStart);
    textarea.value = `${before}@${username} ${after}`;
    const caret = before.length + username.length + 2;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    closeMentions();
  }

  function highlight(index) {
    mention.items.forEach((item, i) => {
      item.classList.toggle("active", i === index);
      item.setAttribute("aria-selected", String(i === index));
    });
    mention.index = index;
  }

  document.addEventListener("input", (e) => {
    const textarea = e.target;
    if (!(textarea instanceof HTMLTextAreaElement) || !textarea.hasAttribute("data-mentions")) return;
    const token = tokenBefore(textarea);
    if (token) openMentions(textarea, token);
    else closeMentions();
  });

  document.addEventListener("keydown", (e) => {
    if (!mention || e.target !== mention.textarea || mention.popup.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = mention.items.length;
      if (n) highlight((mention.index + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
    } else if ((e.key === "Enter" || e.key === "Tab") && mention.items.length) {
      e.preventDefault();
      choose(mention.items[mention.index].dataset.username);
    } else if (e.key === "Escape") {
      closeMentions();
    }
  });

  document.addEventListener("mousedown", (e) => {
    const item = e.target.closest(".mention-item");
    if (item && mention) {
      e.preventDefault();
      choose(item.dataset.username);
    } else if (mention && !e.target.closest(".mention-popup")) {
      closeMentions();
    }
  });

  // --- the new-ticket form: Tech Issues shows the escalation questions -----------------------
  const createForm = document.getElementById("ticket-create");
  if (createForm) {
    const stage = createForm.querySelector("#id_stage");
    const section = createForm.querySelector("#escalation-section");
    const name = createForm.querySelector("#id_name");
    const account = createForm.querySelector("#id_account");
    const hint = createForm.querySelector("[data-name-hint]");
    const escalationIds = (createForm.dataset.escalationStages || "").split(",").filter(Boolean);

    const suggested = () => {
      const contact = createForm.dataset.suggestedName || "";
      const option = account && account.value ? account.selectedOptions[0] : null;
      const number = option ? option.textContent.split(" · ")[0].trim() : "";
      return [number, contact].filter(Boolean).join(" \u2013 ");
    };
    const update = () => {
      const escalating = escalationIds.includes(stage.value);
      section.hidden = !escalating;
      if (hint) hint.hidden = !escalating;
      if (escalating && name && !name.value.trim() && suggested()) {
        name.value = suggested();
        name.dataset.autoName = "1";
      }
    };
    stage.addEventListener("change", update);
    if (account) {
      account.addEventListener("change", () => {
        if (name.dataset.autoName || !name.value.trim()) {
          name.value = "";
          delete name.dataset.autoName;
          update();
        }
      });
    }
    name.addEventListener("input", () => delete name.dataset.autoName);
    update();
  }

  const errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
