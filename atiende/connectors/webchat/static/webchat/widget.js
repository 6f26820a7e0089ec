/* Atiende website chat widget. Served by /widget/<public key>/widget.js with its options built in.
 *
 * Lives in an open shadow root so the host site's CSS cannot reach it (nor it the site's). Talks to
 * Atiende over a WebSocket, with plain HTTP as the fallback for sending and catching up. Every
 * message carries a UUID made here, so a resend (socket or HTTP) is stored once. Texts, colours and
 * the pre-chat form come from the `config` endpoint, already translated by the server.
 */
(function () {
  "use strict";
  var OPTIONS = __ATIENDE_OPTIONS__;
  var registry = (window.__atiendeWidgets = window.__atiendeWidgets || {});
  if (registry[OPTIONS.key]) return;
  registry[OPTIONS.key] = true;

  var BASE = OPTIONS.base.replace(/\/$/, "");
  var API = BASE + "/widget/" + encodeURIComponent(OPTIONS.key) + "/";
  var SOCKET_URL = BASE.replace(/^http/, "ws") + "/ws/webchat/" + encodeURIComponent(OPTIONS.key) + "/";
  var SAME_SITE = location.origin === BASE;
  var STORE_KEY = "atiende:" + OPTIONS.key;
  var ACK_TIMEOUT = 8000;

  var config = null;
  var T = {};
  var visitor = null;
  var socket = null;
  var socketOpen = false;
  var useTokenInUrl = false;
  var reconnectDelay = 1000;
  var reconnectTimer = null;
  var pollTimer = null;
  var everConnected = false;
  var isOpen = false;
  var unread = 0;
  var lastTyping = 0;
  var messages = {}; // id → {el, data}
  var pending = {}; // id → {body, timer}
  var seen = {}; // ids of incoming messages already reported as read

  // --- small helpers ---------------------------------------------------------------------------

  function store(name, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(STORE_KEY + ":" + name);
      if (value === null) window.localStorage.removeItem(STORE_KEY + ":" + name);
      else window.localStorage.setItem(STORE_KEY + ":" + name, value);
    } catch (e) {
      return null;
    }
    return null;
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function" && window.isSecureContext) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = value;
        else if (key === "html") node.innerHTML = value; // only our own static SVG
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : value);
      });
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function request(path, options) {
    options = options || {};
    var headers = options.headers || {};
    var token = store("token");
    if (token) headers["X-Atiende-Visitor"] = token;
    return fetch(API + path, {
      method: options.method || "GET",
      mode: "cors",
      credentials: "include",
      headers: headers,
      body: options.body,
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
    });
  }

  function postJSON(path, payload) {
    return request(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
  }

  function fileUrl(url) {
    var full = BASE + url;
    var token = store("token");
    if (useTokenInUrl && token) full += "?t=" + encodeURIComponent(token);
    return full;
  }

  function contrastText(hex) {
    var m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
    if (!m) return "#fff";
    var rgb = [m[1], m[2], m[3]].map(function (h) {
      var c = parseInt(h, 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return luminance > 0.45 ? "#14213d" : "#fff";
  }

  function formatTime(iso) {
    var date = iso ? new Date(iso) : new Date();
    var today = new Date();
    var time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (date.toDateString() === today.toDateString()) return time;
    return date.toLocaleDateString([], { day: "numeric", month: "short" }) + " · " + time;
  }

  var URL_RE = /(https?:\/\/[^\s<]+[^\s<.,;:!?)\]'"])/g;

  function richText(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    String(text || "").replace(URL_RE, function (match, _url, offset) {
      if (offset > last) fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      fragment.appendChild(el("a", { href: match, target: "_blank", rel: "noopener noreferrer", text: match }));
      last = offset + match.length;
      return match;
    });
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  // --- icons (static markup) ---------------------------------------------------------------------

  var ICON_CHAT =
    '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M12 3C6.5 3 2 6.9 2 11.7c0 2.4 1.1 4.6 3 6.2-.2 1.3-.8 2.6-1.9 3.6 2 0 3.9-.7 5.3-1.8 1.1.3 2.3.5 3.6.5 5.5 0 10-3.9 10-8.6S17.5 3 12 3Zm-4.5 10a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6Zm4.5 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6Zm4.5 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6Z"/></svg>';
  var ICON_CLOSE =
    '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" d="M6 6l12 12M18 6L6 18"/></svg>';
  var ICON_DOWN =
    '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" d="M6 9l6 6 6-6"/></svg>';
  var ICON_SEND =
    '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4 21 12 3.4 3.6 3.4 10.1 15 12 3.4 13.9z"/></svg>';
  var ICON_CLIP =
    '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round" d="M20.5 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8"/></svg>';
  var ICON_MOON =
    '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" d="M20.7 14.6A8.5 8.5 0 0 1 9.4 3.3a8.5 8.5 0 1 0 11.3 11.3Z"/></svg>';
  var ICON_AGENT =
    '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="currentColor" d="M12 2a8 8 0 0 0-8 8v4.5A2.5 2.5 0 0 0 6.5 17H8v-6H6v-1a6 6 0 1 1 12 0v1h-2v6h2v.5a1.5 1.5 0 0 1-1.5 1.5H13a1 1 0 1 0 0 2h3.5a3.5 3.5 0 0 0 3.5-3.5V10a8 8 0 0 0-8-8Z"/></svg>';
  var ICON_FILE =
    '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" d="M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8l-5-5Zm0 0v5h5"/></svg>';

  // --- styles ------------------------------------------------------------------------------------

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".aw{--c:#0d7c86;--ct:#fff;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#1f2933;-webkit-font-smoothing:antialiased}",
    ".aw button{font:inherit;cursor:pointer}",
    "#atiende-widget-button{position:fixed;right:24px;bottom:24px;z-index:2147483001;width:60px;height:60px;border-radius:50%;border:0;background:var(--c);color:var(--ct);display:flex;align-items:center;justify-content:center;box-shadow:0 8px 24px rgba(15,23,42,.28);transition:transform .18s ease,box-shadow .18s ease}",
    "#atiende-widget-button:hover{transform:translateY(-2px) scale(1.04);box-shadow:0 12px 28px rgba(15,23,42,.32)}",
    "#atiende-widget-button:focus-visible{outline:3px solid #fff;box-shadow:0 0 0 6px var(--c)}",
    "#atiende-widget-button .aw-i-close{display:none}",
    ".aw.is-open #atiende-widget-button .aw-i-chat{display:none}",
    ".aw.is-open #atiende-widget-button .aw-i-close{display:flex}",
    ".aw-badge{position:absolute;top:-2px;right:-2px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#e5484d;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff}",
    ".aw-panel{position:fixed;right:24px;bottom:100px;z-index:2147483000;width:380px;height:min(620px,calc(100vh - 130px));display:flex;flex-direction:column;background:#fff;border-radius:18px;overflow:hidden;box-shadow:0 18px 50px rgba(15,23,42,.25),0 2px 8px rgba(15,23,42,.08);opacity:0;transform:translateY(14px) scale(.98);pointer-events:none;visibility:hidden;transition:opacity .2s ease,transform .2s ease,visibility 0s linear .2s}",
    ".aw.is-open .aw-panel{opacity:1;transform:none;pointer-events:auto;visibility:visible;transition:opacity .2s ease,transform .2s ease}",
    ".aw-header{background:var(--c);color:var(--ct);padding:16px 14px 16px 18px;display:flex;align-items:center;gap:12px;flex:none}",
    ".aw-avatar{width:42px;height:42px;border-radius:50%;background:rgba(255,255,255,.2);display:flex;align-items:center;justify-content:center;font-weight:700;font-size:18px;flex:none;position:relative}",
    ".aw-avatar::after{content:'';position:absolute;right:0;bottom:1px;width:11px;height:11px;border-radius:50%;background:#3ddc84;border:2px solid var(--c)}",
    ".aw.is-closed-hours .aw-avatar::after{background:#f5a524}",
    ".aw-head-text{flex:1;min-width:0}",
    ".aw-title{font-weight:700;font-size:16px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".aw-status{font-size:12.5px;opacity:.88}",
    ".aw-close{border:0;background:transparent;color:inherit;width:36px;height:36px;border-radius:50%;display:flex;align-items:center;justify-content:center;flex:none}",
    ".aw-close:hover{background:rgba(255,255,255,.16)}",
    ".aw-ooh{display:flex;gap:10px;align-items:flex-start;background:#fff8e6;color:#6b4e00;border-bottom:1px solid #f3e3b5;padding:10px 16px;font-size:13.5px;flex:none}",
    ".aw-ooh svg{flex:none;margin-top:1px;color:#d69a00}",
    ".aw-conn{background:#eef2f7;color:#52606d;font-size:12.5px;text-align:center;padding:4px;flex:none}",
    ".aw-body{flex:1;overflow-y:auto;padding:18px 14px 8px;background:#f4f6f9;scroll-behavior:smooth}",
    ".aw-log{display:flex;flex-direction:column;gap:6px}",
    ".atiende-msg{max-width:82%;padding:9px 13px 6px;border-radius:16px;word-wrap:break-word;overflow-wrap:anywhere;white-space:pre-wrap;box-shadow:0 1px 1px rgba(15,23,42,.06);animation:aw-in .18s ease-out}",
    "@keyframes aw-in{from{opacity:0;transform:translateY(4px)}to{opacity:1;transform:none}}",
    ".atiende-msg-in,.aw-greeting{align-self:flex-start;background:#fff;border-bottom-left-radius:5px;color:#1f2933}",
    ".atiende-msg-out{align-self:flex-end;background:var(--c);color:var(--ct);border-bottom-right-radius:5px}",
    ".atiende-msg a{color:inherit;text-decoration:underline}",
    ".aw-meta{display:block;font-size:11px;opacity:.7;text-align:right;margin-top:2px;white-space:nowrap}",
    ".aw-failed{background:#fde8e8!important;color:#8a1c1c!important;cursor:pointer}",
    ".aw-sender{font-size:11.5px;font-weight:600;color:#52606d;margin:8px 4px 0;align-self:flex-start}",
    ".aw-files{display:flex;flex-direction:column;gap:6px;margin:2px 0 4px}",
    ".aw-files img{display:block;max-width:100%;max-height:220px;border-radius:10px}",
    ".aw-file{display:flex;align-items:center;gap:8px;padding:8px 10px;border-radius:10px;background:rgba(0,0,0,.06);text-decoration:none!important;white-space:normal}",
    ".atiende-msg-out .aw-file{background:rgba(255,255,255,.18)}",
    ".aw-typing{align-self:flex-start;color:#52606d;font-size:12.5px;padding:2px 6px}",
    ".aw-prechat{background:#fff;border-radius:14px;padding:16px;margin:10px 0 4px;box-shadow:0 1px 3px rgba(15,23,42,.08);display:flex;flex-direction:column;gap:12px}",
    ".aw-prechat p{margin:0;color:#52606d;font-size:14px}",
    ".aw-field label{display:block;font-size:13px;font-weight:600;margin-bottom:4px;color:#323f4b}",
    ".aw-field input{width:100%;font:inherit;padding:10px 12px;border:1px solid #cbd2d9;border-radius:10px;background:#fff;color:#1f2933}",
    ".aw-field input:focus{outline:none;border-color:var(--c);box-shadow:0 0 0 3px rgba(13,124,134,.18)}",
    ".aw-field.has-error input{border-color:#e5484d}",
    ".aw-error{color:#c62a2f;font-size:12.5px;margin-top:4px}",
    ".aw-primary{border:0;border-radius:10px;background:var(--c);color:var(--ct);font-weight:600;padding:11px 14px}",
    ".aw-primary[disabled]{opacity:.6;cursor:progress}",
    ".aw-composer{display:flex;align-items:flex-end;gap:6px;padding:10px 10px 10px 12px;border-top:1px solid #e4e7eb;background:#fff;flex:none}",
    ".aw-composer[hidden],.aw-prechat[hidden],.aw-ooh[hidden],.aw-conn[hidden],.aw-badge[hidden],.aw-typing[hidden]{display:none}",
    "#atiende-widget-input{flex:1;resize:none;border:0;font:inherit;max-height:120px;min-height:24px;padding:9px 4px;outline:none;background:transparent;color:#1f2933}",
    ".aw-icon-btn{border:0;background:transparent;color:#7b8794;width:38px;height:38px;border-radius:50%;display:flex;align-items:center;justify-content:center;flex:none}",
    ".aw-icon-btn:hover{background:#f0f2f5;color:#323f4b}",
    ".aw-send{background:var(--c);color:var(--ct)}",
    ".aw-send:hover{background:var(--c);filter:brightness(1.08);color:var(--ct)}",
    ".aw-powered{text-align:center;font-size:11px;color:#9aa5b1;padding:0 0 8px;background:#fff;flex:none}",
    "@media (max-width:480px){.aw-panel{right:0;bottom:0;width:100vw;height:100%;border-radius:0}.aw.is-open #atiende-widget-button{display:none}#atiende-widget-button{right:16px;bottom:16px}}",
    "@media (prefers-reduced-motion:reduce){.aw-panel,.atiende-msg,#atiende-widget-button{transition:none;animation:none}}",
  ].join("\n");

  // --- DOM -----------------------------------------------------------------------------------------

  var host = el("div", { id: "atiende-widget", "data-atiende-key": OPTIONS.key });
  var shadow = host.attachShadow({ mode: "open" });
  var root, panel, titleEl, avatarEl, statusEl, oohEl, connEl, body, log, typingEl, form, composer, input, fileInput, bubble, badge;

  function build() {
    var color = config.color || "#0d7c86";
    shadow.appendChild(el("style", { text: CSS }));
    root = el("div", { class: "aw", style: "--c:" + color + ";--ct:" + contrastText(color) });

    titleEl = el("div", { class: "aw-title", text: config.title || config.name });
    statusEl = el("div", { class: "aw-status", text: config.open ? T.online : T.offline });
    avatarEl = el("div", { class: "aw-avatar", "aria-hidden": "true", html: ICON_AGENT });
    var closeBtn = el("button", { type: "button", class: "aw-close", "aria-label": T.close, html: ICON_DOWN, onclick: toggle });
    var header = el("header", { class: "aw-header" }, [avatarEl, el("div", { class: "aw-head-text" }, [titleEl, statusEl]), closeBtn]);

    oohEl = el("div", { class: "aw-ooh", role: "status" }, [el("span", { html: ICON_MOON }), el("span", { text: config.out_of_hours_message || "" })]);
    oohEl.hidden = config.open || !config.out_of_hours_message;
    if (!config.open) root.classList.add("is-closed-hours");
    connEl = el("div", { class: "aw-conn", role: "status", text: T.reconnecting });
    connEl.hidden = true;

    log = el("div", { class: "aw-log", role: "log", "aria-live": "polite", "aria-label": T.title });
    log.appendChild(el("div", { class: "atiende-msg aw-greeting" }, [richText(config.greeting || "")]));
    typingEl = el("div", { class: "aw-typing", text: T.typing });
    typingEl.hidden = true;
    form = buildPrechat();
    body = el("div", { class: "aw-body" }, [log, typingEl, form]);

    input = el("textarea", { id: "atiende-widget-input", rows: "1", placeholder: T.input_placeholder, "aria-label": T.input_placeholder, maxlength: "4096" });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendText();
      }
    });
    input.addEventListener("input", function () {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 120) + "px";
      var now = Date.now();
      if (socketOpen && input.value.trim() && now - lastTyping > 2500) {
        lastTyping = now;
        socket.send(JSON.stringify({ type: "typing" }));
      }
    });
    fileInput = el("input", { type: "file", hidden: true, accept: "image/*,.pdf,.doc,.docx,.xls,.xlsx,.txt,.csv,.mp3,.ogg,.m4a,.mp4,.webm,.wav" });
    fileInput.addEventListener("change", function () {
      if (fileInput.files && fileInput.files[0]) sendFile(fileInput.files[0]);
      fileInput.value = "";
    });
    var attach = el("button", { type: "button", class: "aw-icon-btn", id: "atiende-widget-attach", "aria-label": T.attach, title: T.attach, html: ICON_CLIP, onclick: function () { fileInput.click(); } });
    var send = el("button", { type: "button", class: "aw-icon-btn aw-send", id: "atiende-widget-send", "aria-label": T.send, title: T.send, html: ICON_SEND, onclick: sendText });
    composer = el("div", { class: "aw-composer" }, [attach, input, fileInput, send]);
    composer.hidden = true;

    panel = el("div", { class: "aw-panel", role: "dialog", "aria-label": config.title || config.name, id: "atiende-widget-panel" }, [
      header,
      oohEl,
      connEl,
      body,
      composer,
      el("div", { class: "aw-powered", text: T.powered_by }),
    ]);
    badge = el("span", { class: "aw-badge", "aria-hidden": "true" });
    badge.hidden = true;
    bubble = el("button", { type: "button", id: "atiende-widget-button", "aria-label": T.open, "aria-expanded": "false", "aria-controls": "atiende-widget-panel", onclick: toggle }, [
      el("span", { class: "aw-i-chat", html: ICON_CHAT }),
      el("span", { class: "aw-i-close", html: ICON_CLOSE }),
      badge,
    ]);
    root.appendChild(panel);
    root.appendChild(bubble);
    shadow.appendChild(root);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && isOpen) toggle();
    });
    document.addEventListener("visibilitychange", reportSeen);
  }

  function buildPrechat() {
    var fields = (config.prechat || []).map(function (name) {
      var type = name === "email" ? "email" : name === "phone" ? "tel" : "text";
      var autocomplete = name === "email" ? "email" : name === "phone" ? "tel" : "name";
      var id = "atiende-prechat-" + name;
      return el("div", { class: "aw-field", "data-field": name }, [
        el("label", { for: id, text: T[name] }),
        el("input", { id: id, name: name, type: type, autocomplete: autocomplete, placeholder: T[name + "_placeholder"], required: true }),
        el("div", { class: "aw-error", id: id + "-error", role: "alert" }),
      ]);
    });
    var submit = el("button", { type: "submit", class: "aw-primary", id: "atiende-prechat-submit", text: T.start });
    var node = el("form", { class: "aw-prechat", novalidate: true }, [el("p", { text: T.prechat_intro })].concat(fields, [submit]));
    node.addEventListener("submit", function (event) {
      event.preventDefault();
      startSession();
    });
    return node;
  }

  // --- panel ---------------------------------------------------------------------------------------

  function toggle() {
    isOpen = !isOpen;
    root.classList.toggle("is-open", isOpen);
    bubble.setAttribute("aria-expanded", String(isOpen));
    bubble.setAttribute("aria-label", isOpen ? T.close : T.open);
    try {
      window.sessionStorage.setItem(STORE_KEY + ":open", isOpen ? "1" : "");
    } catch (e) {
      /* storage blocked: the panel simply starts closed on the next page */
    }
    if (isOpen) {
      unread = 0;
      updateBadge();
      if (visitor) {
        focusSoon(input);
        reportSeen();
        if (!socketOpen) startPolling();
      } else if (!(config.prechat || []).length) {
        startSession();
      } else {
        var first = form.querySelector("input");
        if (first) focusSoon(first);
      }
      scrollDown();
    }
  }

  // Focus once the panel has opened, unless the visitor already went to one of its fields: a fast
  // visitor (or a slow page) must not have their typing moved to another field.
  function focusSoon(target) {
    setTimeout(function () {
      var current = shadow.activeElement;
      if (current && current !== target && panel.contains(current) && current.matches("input, textarea")) return;
      target.focus();
    }, 60);
  }

  function updateBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? "9+" : String(unread);
  }

  function scrollDown() {
    body.scrollTop = body.scrollHeight;
  }

  function showChat() {
    form.hidden = true;
    composer.hidden = false;
  }

  // --- session ---------------------------------------------------------------------------------------

  function startSession() {
    var submit = form.querySelector("#atiende-prechat-submit");
    var payload = {};
    form.querySelectorAll(".aw-field").forEach(function (field) {
      field.classList.remove("has-error");
      field.querySelector(".aw-error").textContent = "";
      payload[field.getAttribute("data-field")] = field.querySelector("input").value;
    });
    submit.disabled = true;
    postJSON("session", payload)
      .then(function (result) {
        submit.disabled = false;
        if (!result.ok) {
          var errors = result.data.errors || { __all__: result.data.error || T.error };
          Object.keys(errors).forEach(function (name) {
            var field = form.querySelector('.aw-field[data-field="' + name + '"]') || form.querySelector(".aw-field");
            if (!field) return;
            field.classList.add("has-error");
            field.querySelector(".aw-error").textContent = errors[name];
          });
          var bad = form.querySelector(".has-error input");
          if (bad) bad.focus();
          return;
        }
        store("token", result.data.token);
        visitor = result.data.visitor;
        showChat();
        mergeHistory(result.data.messages || []);
        connect();
        input.focus();
      })
      .catch(function () {
        submit.disabled = false;
        var field = form.querySelector(".aw-field");
        if (field) field.querySelector(".aw-error").textContent = T.error;
      });
  }

  // --- messages --------------------------------------------------------------------------------------

  function renderFiles(container, files) {
    var box = container.querySelector(".aw-files");
    if (!files || !files.length) return;
    if (!box) {
      box = el("div", { class: "aw-files" });
      container.insertBefore(box, container.firstChild);
    }
    box.textContent = "";
    files.forEach(function (file) {
      var url = file.url ? fileUrl(file.url) : null;
      if (url && /^image\//.test(file.mime_type)) {
        box.appendChild(el("a", { href: url, target: "_blank", rel: "noopener" }, [el("img", { src: url, alt: file.name, loading: "lazy" })]));
      } else {
        box.appendChild(el(url ? "a" : "span", { class: "aw-file", href: url, target: url ? "_blank" : null, rel: url ? "noopener" : null }, [el("span", { html: ICON_FILE }), el("span", { text: file.name })]));
      }
    });
  }

  function statusText(status) {
    if (status === "sending") return T.sending;
    if (status === "failed") return T.failed;
    return "✓";
  }

  function upsert(data) {
    var outgoing = data.from === "visitor";
    var known = messages[data.id];
    if (known) {
      if (data.attachments && data.attachments.length) renderFiles(known.el, data.attachments);
      if (outgoing && known.status !== "sent" && data.status !== "sending") acknowledged(data.id);
      return known;
    }
    var meta = el("span", { class: "aw-meta", text: formatTime(data.at) + (outgoing ? " · " + statusText(data.status || "sent") : "") });
    var node = el("div", {
      class: "atiende-msg " + (outgoing ? "atiende-msg-out" : "atiende-msg-in"),
      "data-id": data.id,
      "data-from": data.from,
    });
    if (data.body) node.appendChild(el("div", { class: "aw-text" }, [richText(data.body)]));
    if (data.kind === "location" && data.payload && data.payload.latitude !== undefined) {
      var map = "https://www.openstreetmap.org/?mlat=" + data.payload.latitude + "&mlon=" + data.payload.longitude;
      node.appendChild(el("a", { href: map, target: "_blank", rel: "noopener", text: "📍 " + (data.payload.name || map) }));
    }
    node.appendChild(meta);
    renderFiles(node, data.attachments);
    log.appendChild(node);
    messages[data.id] = { el: node, meta: meta, data: data, status: data.status };
    if (!outgoing) typingEl.hidden = true;
    scrollDown();
    return messages[data.id];
  }

  function setStatus(id, status, error) {
    var known = messages[id];
    if (!known) return;
    known.status = status;
    known.el.classList.toggle("aw-failed", status === "failed");
    known.meta.textContent = formatTime(known.data.at) + " · " + (status === "failed" && error ? error : statusText(status));
    if (status === "failed") known.el.title = error || T.failed;
  }

  function mergeHistory(list) {
    list.forEach(function (data) {
      upsert(data);
      if (data.from !== "visitor" && data.status === "read") seen[data.id] = true;
    });
    reportSeen();
  }

  function incoming(data) {
    var existed = !!messages[data.id];
    upsert(data);
    if (data.from === "visitor" || existed) return;
    if (isOpen && document.visibilityState === "visible") {
      reportSeen();
    } else {
      if (socketOpen) socket.send(JSON.stringify({ type: "delivered", id: data.id }));
      if (!isOpen) {
        unread += 1;
        updateBadge();
      }
    }
  }

  function reportSeen() {
    if (!isOpen || document.visibilityState !== "visible" || !socketOpen) return;
    Object.keys(messages).forEach(function (id) {
      var known = messages[id];
      if (known.data.from !== "visitor" && !seen[id] && id.indexOf("wc-out-") === 0) {
        seen[id] = true;
        socket.send(JSON.stringify({ type: "seen", id: id }));
      }
    });
  }

  function sendText() {
    var text = input.value.trim();
    if (!text || !visitor) return;
    input.value = "";
    input.style.height = "auto";
    var id = uuid();
    upsert({ id: id, from: "visitor", kind: "text", body: text, status: "sending", at: new Date().toISOString() });
    deliver(id, text);
    input.focus();
  }

  function deliver(id, text) {
    var item = (pending[id] = { body: text, timer: null });
    setStatus(id, "sending");
    if (socketOpen) {
      socket.send(JSON.stringify({ type: "message", id: id, body: text }));
      item.timer = setTimeout(function () {
        if (pending[id]) deliverHttp(id, text);
      }, ACK_TIMEOUT);
    } else {
      deliverHttp(id, text);
    }
  }

  function deliverHttp(id, text) {
    postJSON("messages", { id: id, body: text })
      .then(function (result) {
        if (result.ok) acknowledged(id);
        else failed(id, result.data.error);
      })
      .catch(function () {
        failed(id, T.failed);
      });
  }

  function acknowledged(id) {
    var item = pending[id];
    if (item && item.timer) clearTimeout(item.timer);
    delete pending[id];
    setStatus(id, "sent");
  }

  function failed(id, error) {
    var item = pending[id];
    if (item && item.timer) clearTimeout(item.timer);
    setStatus(id, "failed", error);
    var known = messages[id];
    if (!known || !item) return;
    known.el.onclick = function () {
      known.el.onclick = null;
      known.el.classList.remove("aw-failed");
      deliver(id, item.body);
    };
  }

  function sendFile(file) {
    if (config.max_upload_bytes && file.size > config.max_upload_bytes) {
      var tooBig = uuid();
      upsert({ id: tooBig, from: "visitor", kind: "file", body: file.name, status: "sending", at: new Date().toISOString() });
      setStatus(tooBig, "failed", T.file_too_big);
      return;
    }
    var id = uuid();
    upsert({ id: id, from: "visitor", kind: "file", body: "", status: "sending", at: new Date().toISOString(), attachments: [{ name: file.name, mime_type: file.type }] });
    var data = new FormData();
    data.append("id", id);
    data.append("file", file, file.name);
    request("attachments", { method: "POST", body: data })
      .then(function (result) {
        if (result.ok) setStatus(id, "sent");
        else setStatus(id, "failed", result.data.error);
      })
      .catch(function () {
        setStatus(id, "failed", T.failed);
      });
  }

  // --- live connection ---------------------------------------------------------------------------------

  function connect() {
    if (!visitor || socket) return;
    var url = SOCKET_URL;
    var token = store("token");
    if (useTokenInUrl && token) url += "?t=" + encodeURIComponent(token);
    var opened = false;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      socket = null;
      startPolling();
      return;
    }
    socket.addEventListener("open", function () {
      opened = true;
      socketOpen = true;
      reconnectDelay = 1000;
      connEl.hidden = true;
      stopPolling();
      if (everConnected) catchUp();
      everConnected = true;
      Object.keys(pending).forEach(function (id) {
        deliver(id, pending[id].body);
      });
      reportSeen();
    });
    socket.addEventListener("message", function (event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (data.type === "message") incoming(data);
      else if (data.type === "ack") acknowledged(data.id);
      else if (data.type === "error") failed(data.id, data.error);
      else if (data.type === "typing") {
        typingEl.hidden = false;
        clearTimeout(typingEl._timer);
        typingEl._timer = setTimeout(function () { typingEl.hidden = true; }, 4000);
      }
    });
    socket.addEventListener("close", function (event) {
      socket = null;
      socketOpen = false;
      if (!opened && event.code !== 1000 && !SAME_SITE && !useTokenInUrl && store("token")) {
        // Third-party cookies blocked: identify with the signed token instead.
        useTokenInUrl = true;
        connect();
        return;
      }
      if (everConnected) connEl.hidden = false;
      startPolling();
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 15000);
    });
  }

  function catchUp() {
    return request("messages").then(function (result) {
      if (result.ok) mergeHistory(result.data.messages || []);
    });
  }

  function startPolling() {
    if (pollTimer || !visitor) return;
    pollTimer = setInterval(function () {
      if (isOpen && !socketOpen) catchUp();
    }, 5000);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  // --- start -------------------------------------------------------------------------------------------

  function start() {
    request("config")
      .then(function (result) {
        if (!result.ok) return;
        config = result.data;
        T = config.texts || {};
        build();
        document.body.appendChild(host);
        if (config.visitor) {
          visitor = config.visitor;
          showChat();
          catchUp().then(function () {
            scrollDown();
          });
          connect();
        } else {
          store("token", null);
        }
        var wasOpen = false;
        try {
          wasOpen = window.sessionStorage.getItem(STORE_KEY + ":open") === "1";
        } catch (e) {
          wasOpen = false;
        }
        if (wasOpen) toggle();
      })
      .catch(function () {
        /* Atiende unreachable: the host page keeps working without the chat */
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
