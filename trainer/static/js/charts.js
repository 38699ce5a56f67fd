// What trainer's charts share: Chart.js defaults, the palette, a line dataset, and a loader
// that fetches a chart group's JSON (its data-src) and says so in the page if that fails.
window.trainerCharts = (function () {
  "use strict";
  if (typeof Chart === "undefined") {
    return null;
  }
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const colors = {
    INK: "#1b1f24", BLUE: "#0b5cad", ORANGE: "#b35c00", GREEN: "#1d6b35", GREY: "#4a5361",
    RED: "#a4161a",
  };
  Chart.defaults.color = colors.INK;
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  Chart.defaults.animation = reduceMotion ? false : { duration: 300 };
  Chart.defaults.maintainAspectRatio = false;
  // Numbers on axes and in tooltips follow the page's language (<html lang>).
  const lang = document.documentElement.lang || "en";
  Chart.defaults.locale = lang;

  // A number with `digits` decimals, in the page's language.
  function number(value, digits) {
    return value.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  // The words a chart group's charts show, translated by the server into its data-labels (JSON):
  // labels(group).name, or `fallback` when the page gave none.
  function labels(group) {
    let given = {};
    try {
      given = JSON.parse(group.dataset.labels || "{}");
    } catch (error) {
      given = {};
    }
    return function (name, fallback) { return given[name] || fallback; };
  }

  function line(label, data, color, options) {
    return Object.assign({
      label: label, data: data, borderColor: color, backgroundColor: color,
      spanGaps: false, tension: 0, pointRadius: 3, borderWidth: 2,
    }, options || {});
  }

  function load(group, draw, failedText) {
    fetch(group.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(draw)
      .catch(function () {
        group.classList.add("failed");
        const note = document.createElement("p");
        note.className = "hint";
        note.textContent = failedText;
        group.appendChild(note);
      });
  }

  return { colors: colors, line: line, load: load, labels: labels, number: number };
})();
