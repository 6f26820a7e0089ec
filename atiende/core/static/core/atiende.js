// Atiende in the browser: one WebSocket per tab for realtime events, presence pings and the bell.
(function () {
  "use strict";
  const body = document.body;
  const path = body.dataset.wsPath;
  const myId = Number(body.dataset.userId || 0);
  const stateEl = document.getElementById("socket-state");
  let socket = null;
  let retry = 0;
  let pinger = null;
  let opened = false; // a later "open" is a reconnection: pages catch up on what they missed

  function setState(state) {
    if (!stateEl) return;
    stateEl.dataset.state = state;
    const label = stateEl.querySelector(".label");
    if (label) label.textContent = label.dataset[state] || state;
  }

  function toast(text) {
    const box = document.getElementById("toasts");
    if (!box || !window.bootstrap) return;
    const el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-dark";
    el.setAttribute("role", "status");
    const inner = document.createElement("div");
    inner.className = "d-flex";
    const msg = document.createElement("div");
    msg.className = "toast-body";
    msg.textContent = text;
    inner.appendChild(msg);
    el.appendChild(inner);
    box.appendChild(el);
    new bootstrap.Toast(el, { delay: 5000 }).show();
    el.addEventListener("hidden.bs.toast", () => el.remove());
  }

  function setUnread(n) {
    const badge = document.getElementById("bell-count");
    if (!badge || typeof n !== "number") return;
    badge.dataset.unread = String(n);
    badge.classList.toggle("d-none", n <= 0);
    const shown = badge.querySelector("[aria-hidden]");
    if (shown) shown.textContent = n > 99 ? "99+" : String(n);
  }

  // A new notification: the badge takes the server's count, the open panel reloads, a toast shows.
  function notify(event) {
    setUnread(event.unread);
    const menu = document.getElementById("bell-menu");
    if (menu && menu.classList.contains("show") && window.htmx) {
      htmx.ajax("GET", menu.getAttribute("hx-get"), { target: menu });
    }
    if (event.title) toast(event.title);
  }

  const handlers = {
    notification: notify,
    "notification.read"(event) { setUnread(event.unread); },
    agent_status(event) {
      if (event.user_id === myId) body.dispatchEvent(new CustomEvent("atiende:my-status"));
      body.dispatchEvent(new CustomEvent("atiende:presence", { detail: event }));
    },
    presence(event) {
      body.dispatchEvent(new CustomEvent("atiende:presence", { detail: event }));
    },
  };

  function connect() {
    if (!path) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + path);
    setState("connecting");
    socket.addEventListener("open", () => {
      retry = 0;
      setState("open");
      if (opened) body.dispatchEvent(new CustomEvent("atiende:reconnected"));
      opened = true;
      clearInterval(pinger);
      pinger = setInterval(() => socket.readyState === 1 && socket.send('{"type":"ping"}'), 30000);
    });
    socket.addEventListener("message", (msg) => {
      let event;
      try { event = JSON.parse(msg.data); } catch (e) { return; }
      const handler = handlers[event.type];
      if (handler) handler(event);
      body.dispatchEvent(new CustomEvent("atiende:event", { detail: event }));
    });
    socket.addEventListener("close", (ev) => {
      clearInterval(pinger);
      setState("closed");
      if (ev.code === 4401) return; // not logged in any more
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * 2 ** retry);
    });
  }

  window.atiende = { handlers, toast, get socket() { return socket; } };
  connect();
})();
