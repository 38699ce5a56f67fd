// Draw the insights charts from the JSON endpoints named in each group's data-src.
// Every chart has a table with the same numbers in the page, so a failed fetch loses nothing.
(function () {
  "use strict";
  const charts = window.trainerCharts;
  if (!charts) {
    return;
  }
  const { INK, BLUE, ORANGE, GREEN, GREY, RED } = charts.colors;
  const line = charts.line;
  // The charts' words, translated by the server (insights/_chart_words.html).
  const t = charts.labels(document.getElementById("insights-words") || document.body);

  function percent(values) {
    return values.map(function (v) { return v === null ? null : Math.round(1000 * v) / 10; });
  }

  function drawTrends(group, data) {
    const units = {};
    data.units.forEach(function (u) { units[u.unit_code] = u; });
    group.querySelectorAll("canvas[data-unit]").forEach(function (canvas) {
      const unit = units[canvas.dataset.unit];
      if (!unit) {
        return;
      }
      if (canvas.dataset.series === "outcome") {
        new Chart(canvas, {
          type: "line",
          data: {
            labels: data.periods,
            datasets: [
              line(t("morale_index", "Morale index (1–5)"), unit.engagement, BLUE, { yAxisID: "morale" }),
              line(data.metric_label, unit.value, ORANGE,
                   { yAxisID: "metric", borderDash: [6, 4], pointStyle: "rectRot" }),
            ],
          },
          options: {
            plugins: { legend: { labels: { boxWidth: 14 } } },
            scales: {
              // Scaled to the data, so that a unit's own changes are visible (see the axis).
              morale: { type: "linear", position: "left", grace: "10%",
                        title: { display: true, text: t("morale", "Morale") } },
              metric: { type: "linear", position: "right", grid: { drawOnChartArea: false },
                        title: { display: true, text: data.metric_label } },
            },
          },
        });
      } else {
        new Chart(canvas, {
          type: "line",
          data: {
            labels: data.periods,
            datasets: [
              line(t("completion", "Course completion %"), percent(unit.completion_rate), GREEN),
              line(t("ownership", "Scenario ownership %"), percent(unit.ownership_rate), GREY,
                   { borderDash: [6, 4], pointStyle: "triangle" }),
            ],
          },
          options: {
            plugins: { legend: { labels: { boxWidth: 14 } } },
            scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } },
          },
        });
      }
    });
  }

  function points(list) {
    return list.map(function (p) { return { x: p.x, y: p.y, unit: p.unit_code, period: p.period }; });
  }

  function fitLine(fit, list) {
    if (!fit || list.length < 2) {
      return [];
    }
    const xs = list.map(function (p) { return p.x; });
    const low = Math.min.apply(null, xs);
    const high = Math.max.apply(null, xs);
    return [{ x: low, y: fit.intercept + fit.slope * low },
            { x: high, y: fit.intercept + fit.slope * high }];
  }

  function scatter(canvas, list, fit, pointLabel, xTitle, yTitle) {
    new Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [
          { label: pointLabel, data: points(list), backgroundColor: BLUE, pointRadius: 4 },
          { label: t("fit", "Least-squares line"), data: fitLine(fit, list), type: "line",
            borderColor: ORANGE, borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
        ],
      },
      options: {
        plugins: {
          tooltip: {
            callbacks: {
              label: function (ctx) {
                const p = ctx.raw;
                return (p.unit || "") + (p.period ? " " + p.period : "") + ": " +
                  p.x.toFixed(2) + ", " + p.y.toFixed(1);
              },
            },
          },
        },
        scales: {
          x: { title: { display: true, text: xTitle } },
          y: { title: { display: true, text: yTitle } },
        },
      },
    });
  }

  function drawScatter(group, data) {
    const within = group.querySelector("canvas[data-series=within]");
    const between = group.querySelector("canvas[data-series=between]");
    if (within) {
      scatter(within, data.within, data.fit.within, t("unit_quarters", "Unit-quarters"),
              t("morale_before", "Morale a quarter earlier, vs unit average"),
              t("vs_average", "{metric}, vs unit average").replace("{metric}", data.metric_label));
    }
    if (between) {
      scatter(between, data.between, data.fit.between, t("units", "Units"),
              t("average_morale", "Average morale (1–5)"),
              t("average", "Average {metric}").replace("{metric}", data.metric_label));
    }
  }

  function drawFunnel(group, data) {
    const canvas = group.querySelector("canvas");
    if (!canvas || data.status !== "ok") {
      return;
    }
    function limit(key) {
      return data.lines.map(function (row) { return { x: row.n, y: 100 * row[key] }; });
    }
    const styles = { within: [BLUE, "circle"], alert: [ORANGE, "triangle"], alarm: [RED, "rectRot"] };
    const byPosition = {};
    data.units.forEach(function (u) {
      (byPosition[u.position] = byPosition[u.position] || []).push(
        { x: u.n, y: 100 * u.value, unit: u.unit_code });
    });
    const names = { within: t("within", "Within limits"), alert: t("alert", "Outside 95%"),
                    alarm: t("alarm", "Outside 99.9%") };
    const datasets = Object.keys(byPosition).map(function (position) {
      return { label: names[position], data: byPosition[position], type: "scatter",
               backgroundColor: styles[position][0], pointStyle: styles[position][1],
               pointRadius: 5 };
    });
    const edge = { type: "line", pointRadius: 0, borderWidth: 1.5, fill: false,
                   backgroundColor: "#ffffff" };
    datasets.push(Object.assign({ label: "95% limits", data: limit("alert_high"),
                                  borderColor: GREY, borderDash: [6, 4] }, edge));
    datasets.push(Object.assign({ label: "95% lower", data: limit("alert_low"),
                                  borderColor: GREY, borderDash: [6, 4] }, edge));
    datasets.push(Object.assign({ label: "99.9% limits", data: limit("alarm_high"),
                                  borderColor: INK }, edge));
    datasets.push(Object.assign({ label: "99.9% lower", data: limit("alarm_low"),
                                  borderColor: INK }, edge));
    new Chart(canvas, {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        plugins: {
          legend: { labels: { filter: function (item) { return !/lower$/.test(item.text); } } },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return (ctx.raw.unit || ctx.dataset.label) + ": " + ctx.raw.y.toFixed(1) +
                  "% of " + Math.round(ctx.raw.x);
              },
            },
          },
        },
        scales: {
          x: { type: "logarithmic", title: { display: true, text: t("customers_n", "Customers (n)") } },
          y: { title: { display: true, text: data.measure.label + " (%)" } },
        },
      },
    });
  }

  function drawPerception(group, data) {
    const canvas = group.querySelector("canvas");
    if (!canvas) {
      return;
    }
    const rows = data.rows;
    function series(key) { return rows.map(function (r) { return r[key]; }); }
    // A horizontal bar chart needs room for every unit (CSSOM, which the CSP allows).
    canvas.parentElement.style.height = (6 + 2.2 * rows.length) + "rem";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.unit_code; }),
        datasets: [
          { label: t("managers", "Managers"), data: series("manager"), backgroundColor: BLUE },
          { label: t("team", "Team (pulse)"), data: series("team"), backgroundColor: GREEN },
          { label: t("customers", "Customers"), data: series("customers"), backgroundColor: ORANGE },
        ],
      },
      options: {
        indexAxis: "y",
        scales: { x: { min: 1, max: 5, title: { display: true, text: t("focus", "Customer focus (1–5)") } } },
      },
    });
  }

  // The overview's one chart: its numbers are in the page (data-chart) and in its table.
  const overview = document.getElementById("overview-chart");
  if (overview) {
    const data = JSON.parse(overview.dataset.chart);
    new Chart(overview, {
      type: "line",
      data: {
        labels: data.periods,
        datasets: [
          line(t("morale_scale", "Morale (1–5)"), data.morale, BLUE, { yAxisID: "morale" }),
          line(data.metric_label, data.measure, ORANGE,
               { yAxisID: "metric", borderDash: [6, 4], pointStyle: "rectRot" }),
        ],
      },
      options: {
        plugins: { legend: { labels: { boxWidth: 14 } } },
        scales: {
          morale: { type: "linear", position: "left", grace: "10%",
                    title: { display: true, text: t("morale", "Morale") } },
          metric: { type: "linear", position: "right", grid: { drawOnChartArea: false },
                    title: { display: true, text: data.metric_label } },
        },
      },
    });
  }

  const draw = { trends: drawTrends, scatter: drawScatter, funnel: drawFunnel,
                 perception: drawPerception };
  document.querySelectorAll(".chart-group[data-src]").forEach(function (group) {
    const kind = group.dataset.kind;
    charts.load(group, function (data) { draw[kind](group, data); },
                t("failed", "The chart could not be loaded; the table has the same numbers."));
  });
})();
