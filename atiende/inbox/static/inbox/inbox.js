// The inbox in the browser: live list and chat over the agent socket, and the composer.
// Everything here upgrades server-rendered HTML; without it the pages still work as links/forms.
(function () {
  "use strict";
  const body = document.body;
  const inbox = document.getElementById("inbox");
  if (!inbox) return;
  const countsUrl = inbox.dataset.countsUrl;
  const mentionsUrl = inbox.dataset.mentionsUrl;
  const JSON_HEADERS = { Accept: "application/json", "X-Requested-With": "fetch" };

  function csrf() {
    const el = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (el) return el.value;
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  const list = () => document.getElementById("conversation-list");
  const chat = () => document.getElementById("chat");
  const openId = () => Number((chat() && chat().dataset.conversationId) || 0);
  const listQs = () => (list() && list().dataset.qs) || "";

  function fragment(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    return tpl.content;
  }

  // --- the list: rows and tray counts ----------------------------------------------------------

  let countsTimer = null;
  function refreshCounts() {
    clearTimeout(countsTimer);
    countsTimer = setTimeout(async () => {
      const resp = await fetch(countsUrl + "?" + listQs(), { headers: JSON_HEADERS });
      if (!resp.ok) return;
      const counts = await resp.json();
      document.querySelectorAll(".tray-tab[data-tray]").forEach((tab) => {
        const badge = tab.querySelector("[data-count]");
        const n = counts[tab.dataset.tray];
        if (badge && n !== undefined && badge.dataset.count !== String(n)) {
          badge.dataset.count = String(n);
          badge.textContent = String(n);
        }
      });
    }, 60);
  }

  function markActive() {
    const id = openId();
    document.querySelectorAll("#conversation-list .conv-row").forEach((row) => {
      const active = Number(row.dataset.conversationId) === id;
      row.classList.toggle("active", active);
      const link = row.querySelector(".conv-link");
      if (link) active ? link.setAttribute("aria-current", "true") : link.removeAttribute("aria-current");
    });
    inbox.classList.toggle("has-open", id > 0);
  }

  const rowRequests = {};
  async function refreshRow(id) {
    const ul = list();
    if (!ul) return;
    const seq = (rowRequests[id] = (rowRequests[id] || 0) + 1);
    const resp = await fetch(`/inbox/${id}/fila/?${listQs()}`, { headers: { "HX-Request": "true" } });
    const html = resp.ok ? (await resp.text()).trim() : "";
    if (seq !== rowRequests[id] || list() !== ul) return; // a newer refresh or another list won
    const old = ul.querySelector(`[data-conversation-id="${id}"]`);
    if (!html) {
      if (old) old.remove();
      return;
    }
    const row = fragment(html).firstElementChild;
    const sort = new URLSearchParams(listQs()).get("orden") || "-last";
    if (old && sort !== "-last") {
      old.replaceWith(row);
    } else {
      if (old) old.remove();
      const empty = ul.querySelector(".conv-empty");
      if (empty) empty.remove();
      ul.prepend(row);
    }
    if (!old) row.classList.add("flash");
    htmx.process(row);
    markActive();
  }

  async function reloadList() {
    const ul = list();
    if (!ul) return;
    await htmx.ajax("GET", "/inbox/?" + listQs(), { target: "#list-body", swap: "innerHTML" });
  }

  // --- the open chat ---------------------------------------------------------------------------

  function threadWrap() { return document.getElementById("thread-wrap"); }
  function nearBottom() {
    const wrap = threadWrap();
    return !wrap || wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 160;
  }
  function scrollToBottom() {
    const wrap = threadWrap();
    if (wrap) wrap.scrollTop = wrap.scrollHeight;
  }

  function appendMessages(html, { force = false } = {}) {
    const thread = document.getElementById("thread");
    const current = chat();
    if (!thread || !current) return;
    const stick = force || nearBottom();
    const frag = fragment(html);
    const lastDay = current.dataset.lastDay;
    Array.from(frag.children).forEach((el) => {
      if (el.classList.contains("day-separator")) {
        if (el.dataset.day === current.dataset.lastDay || thread.querySelector(`.day-separator[data-day="${el.dataset.day}"]`)) return;
        thread.appendChild(el);
        return;
      }
      const id = Number(el.dataset.messageId || 0);
      if (!id) return;
      const existing = thread.querySelector(`[data-message-id="${id}"]`);
      if (existing) {
        existing.replaceWith(el);
      } else {
        thread.appendChild(el);
      }
      htmx.process(el);
      if (id > Number(current.dataset.lastId || 0)) {
        current.dataset.lastId = String(id);
        current.dataset.lastDay = el.dataset.day || lastDay;
      }
    });
    const empty = thread.querySelector(".thread-empty");
    if (empty && thread.querySelector(".message")) empty.remove();
    if (stick) scrollToBottom();
  }

  let fetching = null;
  let fetchAgain = false;
  async function fetchNew() {
    if (fetching) { fetchAgain = true; return fetching; }
    const current = chat();
    if (!current) return;
    fetching = (async () => {
      do {
        fetchAgain = false;
        const url = `${current.dataset.messagesUrl}?despues=${current.dataset.lastId || 0}&dia=${current.dataset.lastDay || ""}`;
        const resp = await fetch(url, { headers: { "HX-Request": "true" } });
        if (!resp.ok || chat() !== current) break;
        appendMessages(await resp.text());
      } while (fetchAgain);
    })();
    try { await fetching; } finally { fetching = null; }
  }

  async function refreshMessage(messageId) {
    const current = chat();
    if (!current) return;
    const el = document.querySelector(`#thread [data-message-id="${messageId}"]`);
    if (!el) return fetchNew();
    const resp = await fetch(current.dataset.messageUrl.replace(/0\/$/, messageId + "/"), { headers: { "HX-Request": "true" } });
    if (!resp.ok) return;
    const fresh = fragment(await resp.text()).firstElementChild;
    const now = document.querySelector(`#thread [data-message-id="${messageId}"]`);
    if (now && fresh) { now.replaceWith(fresh); htmx.process(fresh); }
  }

  function refreshHeader() {
    const current = chat();
    const headerEl = document.getElementById("chat-header");
    if (!current || !headerEl) return;
    if (headerEl.querySelector(".dropdown-menu.show")) return; // don't close a menu being used
    htmx.ajax("GET", current.dataset.headerUrl, { target: "#chat-header", swap: "outerHTML" });
  }

  let typingTimer = null;
  function showTyping() {
    const span = document.querySelector("#typing span");
    if (!span) return;
    span.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { span.hidden = true; }, 4000);
  }

  // --- realtime --------------------------------------------------------------------------------

  body.addEventListener("atiende:event", (e) => {
    const event = e.detail || {};
    const id = Number(event.conversation_id || 0);
    if (!id) return;
    if (event.type === "inbox.typing") {
      if (id === openId()) showTyping();
      return;
    }
    if (!["inbox.message", "inbox.conversation", "inbox.status"].includes(event.type)) return;
    refreshRow(id);
    refreshCounts();
    if (id !== openId()) return;
    if (event.type === "inbox.message") {
      const span = document.querySelector("#typing span");
      if (span) span.hidden = true;
      fetchNew();
    } else if (event.type === "inbox.status") {
      refreshMessage(event.message_id);
    } else {
      refreshHeader();
    }
  });

  body.addEventListener("atiende:reconnected", () => {
    refreshCounts();
    reloadList();
    if (openId()) { fetchNew(); refreshHeader(); }
  });

  // The server's answer to an action (take, transfer, resolve…) names the conversation.
  body.addEventListener("inbox:changed", (e) => {
    const id = Number((e.detail && e.detail.id) || 0);
    if (id) { refreshRow(id); refreshCounts(); }
  });

  // --- after htmx swaps ------------------------------------------------------------------------

  // Older messages loaded above may repeat the day separator of the first day already shown.
  function dedupeDays() {
    const seen = new Set();
    document.querySelectorAll("#thread .day-separator").forEach((el) => {
      if (seen.has(el.dataset.day)) el.remove();
      else seen.add(el.dataset.day);
    });
  }

  function initTooltips(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((el) => bootstrap.Tooltip.getOrCreateInstance(el));
  }

  body.addEventListener("htmx:afterSwap", (e) => {
    const target = e.detail.target;
    if (!target) return;
    if (target.id === "list-body") {
      const hidden = document.querySelector("#list-filters [name=bandeja]");
      if (hidden && list()) hidden.value = list().dataset.tray;
      markActive();
    } else if (target.id === "conversation-pane") {
      initChat();
    }
    dedupeDays();
    initTooltips(target.parentElement || document);
  });

  body.addEventListener("htmx:responseError", (e) => {
    const status = e.detail.xhr ? e.detail.xhr.status : 0;
    const text = status === 403 ? inbox.dataset.forbidden : inbox.dataset.failed;
    if (window.atiende && text) window.atiende.toast(text);
  });

  // --- composer --------------------------------------------------------------------------------

  const popupState = { kind: "", start: 0, items: [], index: 0, controller: null };

  function closePopup() {
    const popup = document.getElementById("composer-popup");
    const ta = document.getElementById("composer");
    if (popup) { popup.hidden = true; popup.innerHTML = ""; }
    if (ta) { ta.setAttribute("aria-expanded", "false"); ta.removeAttribute("aria-activedescendant"); }
    popupState.kind = "";
    popupState.items = [];
    if (popupState.controller) popupState.controller.abort();
  }

  function highlight(index) {
    const ta = document.getElementById("composer");
    popupState.items.forEach((el, i) => {
      el.classList.toggle("active", i === index);
      el.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    popupState.index = index;
    const el = popupState.items[index];
    if (el && ta) { ta.setAttribute("aria-activedescendant", el.id); el.scrollIntoView({ block: "nearest" }); }
  }

  function tokenAtCaret(ta) {
    const caret = ta.selectionStart;
    const before = ta.value.slice(0, caret);
    const m = before.match(/(^|\s)([\/@])([\w.\-]*)$/);
    if (!m) return null;
    return { trigger: m[2], query: m[3], start: caret - m[3].length - 1 };
  }

  async function openPopup(kind, query, start) {
    const current = chat();
    const popup = document.getElementById("composer-popup");
    const ta = document.getElementById("composer");
    if (!current || !popup) return;
    if (popupState.controller) popupState.controller.abort();
    const controller = new AbortController();
    popupState.controller = controller;
    const url = kind === "canned"
      ? `${current.dataset.cannedUrl}?q=${encodeURIComponent(query)}`
      : `${mentionsUrl}?q=${encodeURIComponent(query)}`;
    let html;
    try {
      const resp = await fetch(url, { headers: { "HX-Request": "true" }, signal: controller.signal });
      if (!resp.ok) return;
      html = await resp.text();
    } catch (e) { return; }
    if (controller !== popupState.controller) return;
    popup.innerHTML = html;
    popup.hidden = false;
    ta.setAttribute("aria-expanded", "true");
    popupState.kind = kind;
    popupState.start = start;
    popupState.items = Array.from(popup.querySelectorAll(".canned-item, .mention-item"));
    highlight(0);
  }

  function insertAt(ta, start, end, text) {
    ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
    const caret = start + text.length;
    ta.setSelectionRange(caret, caret);
    ta.dispatchEvent(new Event("autosize"));
  }

  function choose(index) {
    const ta = document.getElementById("composer");
    const el = popupState.items[index];
    if (!ta || !el) return;
    const end = ta.selectionStart;
    if (popupState.kind === "canned") insertAt(ta, popupState.start, end, el.dataset.body);
    else insertAt(ta, popupState.start, end, "@" + el.dataset.username + " ");
    closePopup();
    ta.focus();
  }

  function autosize(ta) {
    ta.style.height = "auto";
    ta.style.height = Math.min(ta.scrollHeight + 2, 180) + "px";
  }

  function setError(text) {
    const el = document.getElementById("composer-error");
    if (el) el.textContent = text || "";
  }

  async function post(url, data) {
    data.append("dia", (chat() && chat().dataset.lastDay) || "");
    const resp = await fetch(url, { method: "POST", body: data, headers: { ...JSON_HEADERS, "X-CSRFToken": csrf() } });
    let payload = {};
    try { payload = await resp.json(); } catch (e) { payload = { error: inbox.dataset.failed }; }
    if (!resp.ok && !payload.error) payload.error = resp.status === 403 ? inbox.dataset.forbidden : inbox.dataset.failed;
    if (payload.html) appendMessages(payload.html, { force: true });
    return payload;
  }

  async function sendComposer(extra) {
    const form = document.getElementById("composer-form");
    const ta = document.getElementById("composer");
    if (!form || form.dataset.busy) return;
    const data = new FormData(form);
    if (extra) Object.entries(extra).forEach(([k, v]) => (v instanceof Blob ? data.append(k, v, v.name || "archivo") : data.set(k, v)));
    if (!extra && !ta.value.trim()) return;
    form.dataset.busy = "1";
    setError("");
    try {
      const result = await post(form.action, data);
      if (result.error) { setError(result.error); return; }
      if (!extra || extra.file) { ta.value = ""; autosize(ta); }
      refreshRow(openId());
      refreshCounts();
    } catch (e) {
      setError(inbox.dataset.failed);
    } finally {
      delete form.dataset.busy;
    }
  }

  // voice notes
  let recorder = null;
  let chunks = [];
  let recordTimer = null;
  let cancelled = false;

  async function toggleRecording(btn) {
    const state = document.getElementById("voice-state");
    const cancel = document.getElementById("voice-cancel");
    if (recorder && recorder.state === "recording") { recorder.stop(); return; }
    if (!navigator.mediaDevices || !window.MediaRecorder) { setError(inbox.dataset.noMic); return; }
    let stream;
    try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); } catch (e) { setError(inbox.dataset.noMic); return; }
    const type = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm"].find((t) => MediaRecorder.isTypeSupported(t)) || "";
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    chunks = [];
    cancelled = false;
    recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    recorder.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      clearInterval(recordTimer);
      btn.classList.remove("recording");
      btn.setAttribute("aria-label", btn.dataset.labelStart);
      btn.title = btn.dataset.labelStart;
      state.hidden = true;
      cancel.hidden = true;
      if (cancelled || !chunks.length) return;
      const ogg = (recorder.mimeType || type).includes("ogg");
      const file = new File(chunks, ogg ? "nota-de-voz.ogg" : "nota-de-voz.webm", { type: ogg ? "audio/ogg" : "audio/webm" });
      sendComposer({ file, kind: "voice", body: "" });
    };
    recorder.start();
    btn.classList.add("recording");
    btn.setAttribute("aria-label", btn.dataset.labelStop);
    btn.title = btn.dataset.labelStop;
    const started = Date.now();
    state.hidden = false;
    cancel.hidden = false;
    const tick = () => {
      const s = Math.floor((Date.now() - started) / 1000);
      state.textContent = `● ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    };
    tick();
    recordTimer = setInterval(tick, 500);
  }

  function initChat() {
    markActive();
    scrollToBottom();
    initTooltips(document.getElementById("conversation-pane") || document);
    const form = document.getElementById("composer-form");
    const ta = document.getElementById("composer");
    if (!form || !ta || form.dataset.ready) return;
    form.dataset.ready = "1";

    ta.addEventListener("autosize", () => autosize(ta));
    ta.addEventListener("input", () => {
      autosize(ta);
      setError("");
      const token = tokenAtCaret(ta);
      const note = form.querySelector("#mode-note").checked;
      if (token && token.trigger === "/") openPopup("canned", token.query, token.start);
      else if (token && token.trigger === "@" && note) openPopup("mention", token.query, token.start);
      else if (popupState.kind) closePopup();
    });
    ta.addEventListener("keydown", (e) => {
      if (popupState.kind && popupState.items.length) {
        if (e.key === "ArrowDown") { e.preventDefault(); highlight((popupState.index + 1) % popupState.items.length); return; }
        if (e.key === "ArrowUp") { e.preventDefault(); highlight((popupState.index - 1 + popupState.items.length) % popupState.items.length); return; }
        if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") { e.preventDefault(); choose(popupState.index); return; }
      }
      if (e.key === "Escape" && popupState.kind) { e.preventDefault(); closePopup(); return; }
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        closePopup();
        sendComposer();
      }
    });
    ta.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== ta) closePopup(); }, 150));
    document.getElementById("composer-popup").addEventListener("mousedown", (e) => {
      const item = e.target.closest(".canned-item, .mention-item");
      if (!item) return;
      e.preventDefault();
      choose(popupState.items.indexOf(item));
    });
    form.addEventListener("submit", (e) => { e.preventDefault(); closePopup(); sendComposer(); });
    form.querySelectorAll("input[name=mode]").forEach((radio) => radio.addEventListener("change", () => {
      const note = form.querySelector("#mode-note").checked;
      form.classList.toggle("is-note", note);
      ta.placeholder = note ? ta.dataset.placeholderNote : ta.dataset.placeholderReply;
      ta.focus();
    }));
    form.querySelectorAll(".composer-file").forEach((input) => input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (file) sendComposer({ file, kind: input.dataset.kind || "", body: ta.value, mode: "reply" });
      input.value = "";
    }));
    const grid = document.getElementById("emoji-grid");
    if (grid) grid.addEventListener("click", (e) => {
      const btn = e.target.closest("[data-emoji]");
      if (!btn) return;
      const start = ta.selectionStart ?? ta.value.length;
      insertAt(ta, start, ta.selectionEnd ?? start, btn.dataset.emoji);
      ta.focus();
    });
    const voice = document.getElementById("voice-btn");
    if (voice) voice.addEventListener("click", () => toggleRecording(voice));
    const voiceCancel = document.getElementById("voice-cancel");
    if (voiceCancel) voiceCancel.addEventListener("click", () => { cancelled = true; if (recorder) recorder.stop(); });
    const geo = document.getElementById("geo-btn");
    if (geo) geo.addEventListener("click", () => {
      if (!navigator.geolocation) { setError(inbox.dataset.noGeo); return; }
      navigator.geolocation.getCurrentPosition(
        (pos) => {
          document.getElementById("loc-lat").value = pos.coords.latitude.toFixed(6);
          document.getElementById("loc-lng").value = pos.coords.longitude.toFixed(6);
        },
        () => setError(inbox.dataset.noGeo),
        { enableHighAccuracy: true, timeout: 10000 },
      );
    });
    const locSend = document.getElementById("loc-send");
    if (locSend) locSend.addEventListener("click", async () => {
      await sendComposer({
        kind: "location", mode: "reply", body: "",
        latitude: document.getElementById("loc-lat").value.replace(",", "."),
        longitude: document.getElementById("loc-lng").value.replace(",", "."),
        name: document.getElementById("loc-name").value,
      });
      const toggle = document.querySelector('[aria-label][data-bs-toggle="dropdown"] .bi-geo-alt');
      if (toggle && window.bootstrap) bootstrap.Dropdown.getOrCreateInstance(toggle.parentElement).hide();
    });
    const results = document.getElementById("template-results");
    // Live preview of a template: {{n}} replaced by what the agent typed (the server validates).
    const previewTemplate = (tform) => {
      const preview = tform.querySelector("[data-template-preview]");
      if (!preview) return;
      const values = {};
      tform.querySelectorAll("[data-variable]").forEach((input) => { values[input.dataset.variable] = input.value.trim(); });
      preview.textContent = preview.dataset.body.replace(/\{\{(\d+)\}\}/g, (m, n) => values[n] || m);
    };
    const previewAll = () => results.querySelectorAll("[data-template-form]").forEach(previewTemplate);
    if (results) {
      results.addEventListener("input", (e) => {
        const tform = e.target.closest("[data-template-form]");
        if (tform) previewTemplate(tform);
      });
      new MutationObserver(previewAll).observe(results, { childList: true });
      previewAll();
    }
    if (results) results.addEventListener("submit", async (e) => {
      const tform = e.target.closest("[data-template-form]");
      if (!tform) return;
      e.preventDefault();
      const error = tform.querySelector(".template-error");
      const result = await post(tform.action, new FormData(tform));
      if (result.error) { if (error) error.textContent = result.error; return; }
      const modal = document.getElementById("template-modal");
      if (modal && window.bootstrap) bootstrap.Modal.getOrCreateInstance(modal).hide();
      refreshRow(openId());
    });
    if (!("ontouchstart" in window)) ta.focus({ preventScroll: true });
  }

  // "Enviar mensaje a número": only the templates of the chosen channel, and the template fields
  // only on channels that use templates.
  function syncStartForm() {
    const select = document.querySelector("#start-form [name=channel]");
    if (!select) return;
    const option = select.selectedOptions[0];
    const channel = select.value;
    const templates = Boolean(option && option.dataset.templates);
    document.querySelectorAll("#start-form .start-template-field").forEach((el) => {
      el.hidden = !templates && !el.querySelector(".is-invalid, .invalid-feedback");
    });
    document.querySelectorAll("#start-form [name=template] option[data-channel]").forEach((opt) => {
      opt.hidden = opt.dataset.channel !== "" && opt.dataset.channel !== channel;
    });
  }
  document.addEventListener("change", (e) => {
    if (e.target.matches("#start-form [name=channel]")) syncStartForm();
  });
  body.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target && e.detail.target.id === "start-modal-body") syncStartForm();
  });

  initChat();
  initTooltips(document);
})();
