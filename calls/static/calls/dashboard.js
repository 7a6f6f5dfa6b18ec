// The dashboard: the wallboard's figures (wallboard.js) plus today's half-hours drawn with
// Chart.js (served by this server) and live read receipts of the supervisor's announcements.
(function () {
  "use strict";
  const root = document.getElementById("floor");
  const canvas = document.getElementById("half-hours");
  if (!root || !window.Floor) return;
  const t = (key) => root.dataset["t" + key.replace(/(^|-)(\w)/g, (_m, _d, c) => c.toUpperCase())] || key;
  let chart = null;

  function draw(state) {
    if (!canvas || !window.Chart) return;
    const slots = state.half_hours || [];
    const labels = slots.map((s) => s.start);
    const data = [slots.map((s) => s.offered), slots.map((s) => s.answered), slots.map((s) => s.service_level_pct)];
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets.forEach((set, i) => (set.data = data[i]));
      chart.update("none");
      return;
    }
    chart = new window.Chart(canvas, {
      data: {
        labels,
        datasets: [
          { type: "bar", label: t("offered"), data: data[0], backgroundColor: "#9bbbd8", yAxisID: "calls" },
          { type: "bar", label: t("answered"), data: data[1], backgroundColor: "#0b62a4", yAxisID: "calls" },
          { type: "line", label: t("service-level"), data: data[2], borderColor: "#1b7f3b", yAxisID: "pct", spanGaps: true },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          calls: { type: "linear", position: "left", beginAtZero: true },
          pct: { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } },
        },
      },
    });
  }

  window.Floor.onRender(draw);
  window.Floor.onMessage((msg) => {
    if (msg.type !== "announcement.read") return;
    const item = document.querySelector(`#my-announcements li[data-id="${msg.announcement_id}"] .readers`);
    if (item && !item.textContent.includes(msg.agent)) {
      item.textContent = item.textContent.trim() ? `${item.textContent}, ${msg.agent}` : msg.agent;
    }
  });
  draw(window.Floor.state);
})();
