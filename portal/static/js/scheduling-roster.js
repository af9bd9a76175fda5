/* Roster pages (manager side): live progress of an optimiser run, live check of a draft edit.
   Both pages work without this script; it only saves a reload. */
(function () {
  "use strict";

  var progress = document.getElementById("run-progress");
  if (progress && progress.dataset.active === "yes") {
    var live = document.getElementById("run-live");
    var poll = function () {
      fetch(progress.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (!data.is_active) { window.location.reload(); return; }
          if (live && data.found) {
            live.textContent = data.found + " improving rosters found; best score " + data.best +
              " after " + data.elapsed + " s (lower is better).";
          }
          window.setTimeout(poll, 2000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 1500);
  }

  var form = document.getElementById("cell-form");
  if (form) {
    var out = document.getElementById("cell-check");
    var select = form.querySelector("select");
    var check = function () {
      var data = new FormData(form);
      fetch(form.dataset.checkUrl, { method: "POST", body: data, credentials: "same-origin",
                                     headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (result) {
          out.textContent = "";
          var box = document.createElement("div");
          if (result.ok) {
            box.className = "flash flash--success";
            box.textContent = "This change keeps every hard rule.";
          } else {
            box.className = "flash flash--error";
            var title = document.createElement("p");
            title.innerHTML = "<strong>This change would break:</strong>";
            box.appendChild(title);
            var list = document.createElement("ul");
            result.reasons.forEach(function (reason) {
              var item = document.createElement("li");
              item.textContent = reason;
              list.appendChild(item);
            });
            box.appendChild(list);
          }
          out.appendChild(box);
        });
    };
    if (select) { select.addEventListener("change", check); }
  }
})();
