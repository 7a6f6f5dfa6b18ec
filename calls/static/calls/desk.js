// The agent desk: one WebSocket (/ws/desk/) brings every change; actions go through the
// agent API (/api/agents/me/status/, /api/calls/<id>/accept|end|wrap-up|escalate/).
// The socket's messages carry a per-socket `seq`: a gap, or a reconnection, asks the
// server for the whole state ({"type": "sync"}). Reconnects with backoff.
(function () {
  "use strict";
  const root = document.getElementById("desk");
  if (!root) return;
  const t = (key) => root.dataset["t" + key.replace(/(^|-)(\w)/g, (_m, _d, c) => c.toUpperCase())] || key;
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const $ = (id) => document.getElementById(id);
  const state = JSON.parse($("desk-initial").textContent);
  const labels = JSON.parse($("state-labels").textContent);
  const label = (key) => labels[key] || key;
  let socket = null;
  let lastSeq = 0;
  let retry = 0;
  let retryTimer = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function seconds(s) {
    if (s === null || s === undefined) return "—";
    s = Math.round(s);
    const m = Math.floor(s / 60);
    return m ? `${m} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
  }

  // --- Rendering ---------------------------------------------------------------------
  function renderPresence() {
    const p = state.presence || { state: "offline" };
    const badge = $("presence-state");
    badge.dataset.state = p.state;
    badge.textContent = label(p.state) + (p.reason ? ` (${label("reason." + p.reason)})` : "");
    $("presence-since").textContent = p.since ? new Date(p.since).toLocaleTimeString() : "";
    document.body.dataset.presence = p.state;
  }

  function renderCall() {
    const box = $("call");
    const call = state.call;
    box.replaceChildren();
    const callState = call ? call.state : "none";
    box.dataset.state = callState;
    box.dataset.callId = call ? call.id : "";
    $("accept").disabled = callState !== "ringing";
    $("end").disabled = callState !== "in_progress";
    $("escalate").disabled = !(callState === "in_progress" || callState === "wrap_up") || (call && call.escalated);
    const wrap = $("wrap-up");
    wrap.hidden = callState !== "wrap_up";
    if (!call) {
      box.append(el("p", { class: "muted", text: t("no-call") }));
      return;
    }
    const client = call.client;
    box.append(
      el("p", { class: "caller" },
        el("strong", { class: "caller-name", text: client ? client.name : t("unknown-caller") }),
        " ",
        el("span", { class: "caller-number", text: call.caller_number })),
      el("p", { class: "call-meta", text: `${call.queue_name || ""} · ${label("call." + call.state)}` }),
    );
    if (call.escalated) box.append(el("p", { class: "warn", text: t("escalated") }));
    const steps = $("next-steps");
    steps.replaceChildren();
    if (client) {
      const links = client.links || {};
      const nav = el("p", { class: "client-links" });
      if (links.record) nav.append(el("a", { href: links.record, target: "_blank", text: t("record") }), " ");
      box.append(nav);
      if (links.order) steps.append(el("a", { href: links.order, target: "_blank", text: t("order") }), " · ");
      if (links.outcome) steps.append(el("a", { href: links.outcome, target: "_blank", text: t("outcome") }));
      if (client.history && client.history.length) {
        const list = el("ol", { class: "history", "aria-label": t("history") });
        for (const entry of client.history) {
          list.append(el("li", {}, el("time", { text: new Date(entry.at).toLocaleString() }), ` ${entry.title} — ${entry.detail}`));
        }
        box.append(el("h3", { text: t("history") }), list);
      }
    }
  }

  function renderQueues() {
    const body = $("queues").tBodies[0];
    body.replaceChildren();
    for (const q of state.queues || []) {
      const row = el("tr", { "data-queue": q.queue },
        el("td", { text: q.name }),
        el("td", { class: "waiting", text: String(q.waiting) }),
        el("td", { class: "longest", text: seconds(q.longest_wait_s) }));
      if (q.waiting > 0) row.classList.add("busy");
      body.append(row);
    }
  }

  function renderDay() {
    const d = state.my_day || {};
    $("day-handled").textContent = d.handled ?? 0;
    $("day-target").textContent = d.target ?? "";
    $("day-aht").textContent = d.aht_s === null || d.aht_s === undefined ? "—" : Math.round(d.aht_s);
    $("day-aht-target").textContent = d.aht_target_s ?? "";
  }

  function renderAnnouncements() {
    const list = $("announcements");
    list.replaceChildren();
    for (const a of state.announcements || []) {
      const item = el("li", { class: a.read ? "read" : "unread", "data-id": a.id },
        el("p", { text: a.body }),
        el("small", { text: `${a.author} · ${new Date(a.created_at).toLocaleString()} ` }));
      if (a.read) item.append(el("span", { class: "muted", text: t("read") }));
      else {
        const button = el("button", { type: "button", class: "mark-read", text: t("mark-read") });
        button.addEventListener("click", () => send({ type: "announcement.read", id: a.id }) && markRead(a.id));
        item.append(button);
      }
      list.append(item);
    }
  }

  function markRead(id) {
    for (const a of state.announcements || []) if (a.id === id) a.read = true;
    renderAnnouncements();
  }

  function renderAll() {
    renderPresence();
    renderCall();
    renderQueues();
    renderDay();
    renderAnnouncements();
  }

  function showError(text) {
    const box = $("desk-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // --- The socket --------------------------------------------------------------------
  function setConnected(connected) {
    const c = $("connection");
    c.dataset.connected = String(connected);
    c.textContent = connected ? t("connected") : t("reconnecting");
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${root.dataset.ws}`);
    socket.addEventListener("open", () => {
      retry = 0;
      lastSeq = 0;
      root.dataset.connections = String(Number(root.dataset.connections || 0) + 1);
      setConnected(true);
      send({ type: "sync" }); // whatever happened while we were away
    });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      setConnected(false);
      const delay = Math.min(10000, 250 * 2 ** retry) + Math.random() * 250; // backoff with jitter
      retry += 1;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, delay);
    });
  }

  function handle(msg) {
    if (typeof msg.seq === "number") {
      if (msg.type !== "sync" && lastSeq && msg.seq !== lastSeq + 1) {
        send({ type: "sync" }); // a gap: take the whole state again
      }
      lastSeq = msg.seq;
    }
    switch (msg.type) {
      case "sync":
        Object.assign(state, msg.state);
        renderAll();
        break;
      case "presence.updated":
        state.presence = msg.presence;
        renderPresence();
        if (!msg.presence.call_id && state.call && state.call.state !== "wrap_up") {
          state.call = null;
          renderCall();
        }
        break;
      case "call.offered":
      case "call.updated":
        // The pushed call has no client record: the sync brings the full card.
        state.call = Object.assign({}, state.call && state.call.id === msg.call.id ? state.call : {}, msg.call);
        renderCall();
        if (msg.type === "call.offered" || (state.call.client_id && !state.call.client)) send({ type: "sync" });
        if (msg.type === "call.offered") $("accept").focus();
        if (msg.call.state === "completed") send({ type: "sync" });
        break;
      case "call.withdrawn":
        if (state.call && state.call.id === msg.call.id) state.call = null;
        renderCall();
        break;
      case "queue.status": {
        const q = (state.queues || []).find((item) => item.queue === msg.queue);
        if (q) {
          q.waiting = msg.waiting;
          q.longest_wait_s = msg.longest_wait_s;
          renderQueues();
        }
        break;
      }
      case "announcement.posted":
        state.announcements = [Object.assign({ read: false }, msg.announcement), ...(state.announcements || [])];
        renderAnnouncements();
        break;
      case "notification": {
        const text = msg.text || msg.title || msg.message || JSON.stringify(msg.notification || msg);
        $("notifications").prepend(el("li", { class: "notification", text }));
        break;
      }
      case "error":
        showError(msg.detail);
        break;
      default:
        break;
    }
  }

  // --- Actions (the agent API) ---------------------------------------------------------
  async function post(url, body) {
    showError("");
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const fields = Object.values(data.errors || {}).flat().join(" ");
      showError(`${data.detail || root.dataset.tError || "Error"} ${fields}`.trim());
      return null;
    }
    send({ type: "sync" }); // the pushes follow; a sync makes sure
    return data;
  }

  function callUrl(action) {
    return `${root.dataset.callsUrl}${state.call.id}/${action}/`;
  }

  function setStatus(status) {
    const body = { status };
    if (status === "break") body.reason = $("break-reason").value;
    return post(root.dataset.statusUrl, body);
  }

  function accept() {
    if (state.call && state.call.state === "ringing") post(callUrl("accept")).then(() => $("end").focus());
  }

  function end() {
    if (state.call && state.call.state === "in_progress") {
      post(callUrl("end"), { reason: "completed" }).then(() => {
        $("wrap-up").hidden = false;
        $("disposition").focus();
      });
    }
  }

  function escalate() {
    if (state.call && ["in_progress", "wrap_up"].includes(state.call.state)) {
      post(callUrl("escalate"), { reason: $("escalation-reason").value });
    }
  }

  function focusWrapUp() {
    if (state.call && state.call.state === "wrap_up") {
      $("wrap-up").hidden = false;
      $("disposition").focus();
    }
  }

  async function wrapUp(event) {
    if (event) event.preventDefault();
    if (!state.call) return;
    const followUp = $("follow-up").value;
    const body = { disposition: $("disposition").value, notes: $("notes").value };
    if (followUp) body.follow_up_at = new Date(followUp).toISOString();
    const done = await post(callUrl("wrap-up"), body);
    if (done) {
      $("wrap-up").reset();
      state.call = null;
      renderCall();
      root.querySelector('[data-status="available"]').focus();
    }
  }

  root.querySelectorAll("[data-status]").forEach((button) =>
    button.addEventListener("click", () => setStatus(button.dataset.status)));
  $("accept").addEventListener("click", accept);
  $("end").addEventListener("click", end);
  $("escalate").addEventListener("click", escalate);
  $("wrap-up").addEventListener("submit", wrapUp);
  $("disposition").addEventListener("keydown", (event) => {
    if (event.key === "Enter") wrapUp(event);
  });
  $("notes").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) wrapUp(event);
  });

  // Keyboard: A accept, E end, W wrap-up form, X escalate; Esc leaves a field.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target && (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.isContentEditable);
    if (event.key === "Escape" && typing) {
      target.blur();
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    const actions = { a: accept, e: end, w: focusWrapUp, x: escalate };
    if (actions[key]) {
      event.preventDefault();
      actions[key]();
    }
  });

  setInterval(() => {
    // Longest waits grow between pushes.
    for (const q of state.queues || []) if (q.waiting > 0) q.longest_wait_s += 1;
    renderQueues();
  }, 1000);

  renderAll();
  connect();
})();
