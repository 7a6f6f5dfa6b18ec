// The wallboard (and the dashboard, which adds dashboard.js): per queue and per agent
// figures, escalations as they arrive. The socket (/ws/wallboard/) pushes queue status
// (applied at once) and every presence and call change; each push also asks for a fresh
// copy of the computed figures (/wallboard/data/), at most once every half second.
// The day's figures in that copy may be shared ones, counted up to figures_max_age_s
// earlier (calls/selectors.py, SharedDayFigures): when a change came before a copy whose
// figures are older than the copy itself, the page asks again once they have been counted anew.
// Reconnects with backoff and resyncs on open.
(function () {
  "use strict";
  const root = document.getElementById("floor");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const t = (key) => root.dataset["t" + key.replace(/(^|-)(\w)/g, (_m, _d, c) => c.toUpperCase())] || key;
  const listeners = [];
  let state = JSON.parse($("floor-initial").textContent);
  const labels = JSON.parse($("state-labels").textContent);
  const label = (key) => labels[key] || key;
  let socket = null;
  let retry = 0;
  let lastSeq = 0;
  let refreshTimer = null;
  let changed = false; // a push came since the last copy was asked for
  let figuresAfter = null; // server time the day figures must be counted after (ms)
  const seen = new Set();

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  const dash = (v, unit) => (v === null || v === undefined ? "—" : `${Math.round(v)}${unit || ""}`);
  function duration(s) {
    s = Math.max(0, Math.round(s || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  }

  function renderQueues() {
    const body = $("floor-queues").tBodies[0];
    body.replaceChildren();
    for (const q of state.queues) {
      const a = q.agents || {};
      const sl = q.service_level_pct;
      const slClass = sl === null || sl === undefined ? "" : sl >= q.service_level_target_pct ? "ok" : "bad";
      body.append(el("tr", { "data-queue": q.id },
        el("th", { scope: "row", text: q.name }),
        el("td", { class: "waiting big" + (q.waiting ? " warn" : ""), text: String(q.waiting) }),
        el("td", { class: "longest", text: duration(q.longest_wait_s) }),
        el("td", { class: "agents", text: `${a.available || 0} / ${(a.on_call || 0) + (a.reserved || 0)} / ${a.wrap_up || 0} / ${a.break || 0}` }),
        el("td", { class: "sl " + slClass, text: dash(sl, " %") }),
        el("td", { class: "asa", text: dash(q.asa_s, " s") }),
        el("td", { class: "aht", text: dash(q.aht_s, " s") }),
        el("td", { class: "abandon", text: dash(q.abandon_rate_pct, " %") }),
        el("td", { class: "offered", text: String(q.offered) }),
        el("td", { class: "handled", text: String(q.answered) })));
    }
  }

  function renderAgents() {
    const body = $("floor-agents").tBodies[0];
    body.replaceChildren();
    for (const a of state.agents) {
      const late = a.aht_s !== null && a.aht_s > a.aht_target_s;
      body.append(el("tr", { "data-agent": a.id, "data-state": a.state },
        el("th", { scope: "row", text: a.name }),
        el("td", { class: "state state-" + a.state, text: label(a.state) + (a.reason ? ` (${label("reason." + a.reason)})` : "") }),
        el("td", { class: "in-state", text: duration(a.in_state_s) }),
        el("td", { class: "handled", text: `${a.handled} / ${a.target}` }),
        el("td", { class: "aht" + (late ? " bad" : ""), text: `${dash(a.aht_s)} / ${a.aht_target_s} s` }),
        el("td", { class: "occupancy", text: dash(a.occupancy_pct, " %") })));
    }
  }

  function renderEscalations() {
    const list = $("floor-escalations");
    list.replaceChildren();
    for (const e of state.escalations) {
      const item = el("li", { "data-call": e.id, class: seen.has(e.id) ? "" : "new" },
        el("strong", { text: `${e.agent} · ${e.queue}` }), ` ${e.caller_number} — ${e.reason || ""} `,
        el("time", { text: e.escalated_at ? new Date(e.escalated_at).toLocaleTimeString() : "" }));
      seen.add(e.id);
      list.append(item);
    }
  }

  function render() {
    renderQueues();
    renderAgents();
    renderEscalations();
    for (const fn of listeners) fn(state);
  }

  async function refresh() {
    refreshTimer = null;
    const afterChange = changed;
    changed = false;
    const response = await fetch(root.dataset.dataUrl, { credentials: "same-origin" });
    if (response.ok) {
      state = await response.json();
      render();
      const at = Date.parse(state.at);
      const figuresAt = Date.parse(state.figures_at);
      if (afterChange && (figuresAfter === null || at > figuresAfter)) figuresAfter = at;
      if (figuresAfter !== null && figuresAt < figuresAfter) {
        // Shared figures counted before the change: ask again once they are counted anew.
        const wait = figuresAt + 1000 * state.figures_max_age_s - at;
        scheduleRefresh(Math.max(100, wait + 100));
      } else {
        figuresAfter = null;
      }
    }
  }

  let refreshDue = 0;
  function scheduleRefresh(delay = 500) {
    const due = Date.now() + delay;
    if (refreshTimer && refreshDue <= due) return;
    clearTimeout(refreshTimer);
    refreshDue = due;
    refreshTimer = setTimeout(refresh, delay);
  }

  function changedOnServer() {
    changed = true;
    scheduleRefresh();
  }

  function setConnected(connected) {
    const c = $("floor-connection");
    c.dataset.connected = String(connected);
    c.textContent = connected ? t("connected") : t("reconnecting");
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${root.dataset.ws}`);
    socket.addEventListener("open", () => {
      retry = 0;
      lastSeq = 0;
      root.dataset.connections = String(Number(root.dataset.connections || 0) + 1);
      setConnected(true);
      socket.send(JSON.stringify({ type: "sync" }));
    });
    socket.addEventListener("close", () => {
      setConnected(false);
      setTimeout(connect, Math.min(10000, 250 * 2 ** retry++) + Math.random() * 250);
    });
    socket.addEventListener("message", (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type !== "sync" && lastSeq && msg.seq !== lastSeq + 1) changedOnServer();
      lastSeq = msg.seq || lastSeq;
      if (msg.type === "sync") {
        state = msg.state;
        render();
        return;
      }
      if (msg.type === "queue.status") {
        const q = state.queues.find((item) => item.id === msg.queue);
        if (q) {
          q.waiting = msg.waiting;
          q.longest_wait_s = msg.longest_wait_s;
          renderQueues();
        }
      }
      for (const fn of messageListeners) fn(msg);
      changedOnServer();
    });
  }

  const messageListeners = [];
  window.Floor = {
    onRender: (fn) => listeners.push(fn),
    onMessage: (fn) => messageListeners.push(fn),
    get state() { return state; },
  };

  setInterval(() => {
    for (const a of state.agents) a.in_state_s += 1;
    for (const q of state.queues) if (q.waiting) q.longest_wait_s += 1;
    renderAgents();
    renderQueues();
  }, 1000);
  // Figures that change with time alone (service level windows). Through the one refresh
  // timer, so the tick never fetches beside a refresh already scheduled.
  setInterval(() => scheduleRefresh(0), 30000);

  render();
  connect();
})();
