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

  function notify(event) {
    const count = document.getElementById("bell-count");
    const list = document.getElementById("bell-list");
    const empty = document.getElementById("bell-empty");
    if (count) {
      const n = Number(count.textContent || 0) + 1;
      count.textContent = String(n);
      count.classList.remove("d-none");
    }
    if (list) {
      const li = document.createElement("li");
      const a = document.createElement(event.url ? "a" : "span");
      a.className = "dropdown-item text-wrap";
      if (event.url) a.href = event.url;
      a.textContent = event.title || "";
      li.appendChild(a);
      list.prepend(li);
    }
    if (empty) empty.classList.add("d-none");
    if (event.title) toast(event.title);
  }

  const handlers = {
    notification: notify,
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
