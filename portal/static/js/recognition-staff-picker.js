/* Colleague picker (recognition): a search box that filters the ward-grouped checkboxes.
   The picker works without this script (open a ward, tick names); it only saves scrolling. */
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setUp(picker) {
    var search = picker.querySelector("[data-picker-search]");
    var input = search.querySelector("input");
    var count = search.querySelector("[role=status]");
    var chosen = picker.querySelector("[data-picker-chosen]");
    var groups = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-group]"));
    var wasOpen = groups.map(function (group) { return group.open; });
    var timer = null;

    function filter() {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      groups.forEach(function (group, index) {
        var matches = 0;
        group.querySelectorAll("[data-picker-item]").forEach(function (item) {
          var text = item.getAttribute("data-search");
          var match = words.every(function (word) { return text.indexOf(word) !== -1; });
          item.hidden = !match;
          if (match) { matches += 1; }
        });
        shown += matches;
        group.hidden = words.length > 0 && matches === 0;
        group.open = words.length > 0 ? matches > 0
          : wasOpen[index] || group.querySelector("input:checked") !== null;
      });
      // Announce the count once typing pauses, not on every key.
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        count.textContent = !words.length ? ""
          : shown === 0 ? "Nobody matches. Check the spelling, or open a ward below."
          : shown === 1 ? "1 colleague matches." : shown + " colleagues match.";
      }, 350);
    }

    function showChosen() {
      var names = Array.prototype.map.call(picker.querySelectorAll("input[type=checkbox]:checked"), function (box) {
        var label = picker.querySelector("label[for='" + box.id + "']");
        return label ? label.textContent.trim() : box.value;
      });
      chosen.textContent = names.length ? names.join(", ") : "nobody yet";
    }

    input.addEventListener("input", filter);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // searching must not send the form
      if (event.key === "Escape" && input.value) { input.value = ""; filter(); }
    });
    picker.addEventListener("change", function (event) {
      if (event.target.type === "checkbox") { showChosen(); }
    });
    search.hidden = false;
  }

  document.querySelectorAll("[data-staff-picker]").forEach(setUp);
}());
