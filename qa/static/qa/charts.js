// Line charts of the quality pages: each <canvas class="qa-chart" data-chart="ID"> is drawn
// from the JSON the page put in <script id="ID" type="application/json"> ({labels, datasets}).
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  var palette = ["#0b62a4", "#1b7f3b", "#b86e00", "#b3261e", "#6a4c93"];
  document.querySelectorAll("canvas.qa-chart").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    data.datasets.forEach(function (dataset, i) {
      dataset.borderColor = palette[i % palette.length];
      dataset.backgroundColor = palette[i % palette.length];
      dataset.spanGaps = true;
      dataset.tension = 0.2;
    });
    new Chart(canvas, {
      type: "line",
      data: data,
      options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    });
  });
})();
