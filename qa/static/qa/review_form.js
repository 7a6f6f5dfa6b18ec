// Keyboard scoring on the review form: in a criterion, Y / N / A pick yes, no or not
// applicable and a digit picks that many points; the focus then moves on to the next
// criterion. C jumps to the current criterion's comment. Tab and the arrow keys work as
// for any radio group. Ctrl+Enter submits from anywhere in the form; Alt+D / Alt+S
// (accesskeys, where the browser offers them) save or submit.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  var groups = Array.prototype.slice.call(form.querySelectorAll("fieldset.criterion"));

  function focusGroup(index) {
    var group = groups[index];
    if (!group) {
      var comment = document.getElementById("comment") || document.getElementById("note");
      if (comment) comment.focus();
      return;
    }
    var target = group.querySelector("input[type=radio]:checked") || group.querySelector("input[type=radio]");
    if (target) target.focus();
  }

  form.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      var submit = form.querySelector("button[name=action][value=submit]");
      if (submit) {
        event.preventDefault();
        submit.click();
      }
      return;
    }
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "radio") return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var group = input.closest("fieldset.criterion");
    var index = groups.indexOf(group);
    var key = event.key.toLowerCase();
    if (key === "c") {
      event.preventDefault();
      group.querySelector("input.comment").focus();
      return;
    }
    var option = group.querySelector('input[type=radio][data-key="' + key + '"]');
    if (!option) return;
    event.preventDefault();
    option.checked = true;
    option.dispatchEvent(new Event("change", { bubbles: true }));
    focusGroup(index + 1);
  });

  // The first unanswered criterion gets the focus when the form opens.
  if (!document.querySelector(".messages .error")) {
    var first = groups.findIndex(function (g) { return !g.querySelector("input[type=radio]:checked"); });
    if (first >= 0 && form.closest("details") === null) focusGroup(first);
  }
})();
