// Outcome form: show only the fields the chosen outcome needs (the form works without it).
(function () {
  const form = document.getElementById("outcome-form");
  if (!form) return;
  const rows = form.querySelectorAll("[data-for]");
  function update() {
    const chosen = form.querySelector("input[name=kind]:checked");
    const kind = chosen ? chosen.value : "";
    rows.forEach(function (row) {
      row.hidden = !row.dataset.for.split(" ").includes(kind);
    });
  }
  form.addEventListener("change", update);
  update();
  const first = form.querySelector("input[name=kind]");
  if (first && !form.querySelector("input[name=kind]:checked")) first.focus();
})();
