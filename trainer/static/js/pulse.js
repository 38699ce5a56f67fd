// Draw a unit's pulse trend from the results JSON named in the chart group's data-src.
// The trend table under the charts has the same numbers, so a failed fetch loses nothing.
// Cycles without released scores (too few responses, or merged upwards) have no numbers in
// the JSON; they are drawn as gaps, never as zeros.
(function () {
  "use strict";
  const charts = window.trainerCharts;
  if (!charts) {
    return;
  }
  const { BLUE, ORANGE } = charts.colors;
  const line = charts.line;

  function value(point, key) {
    return typeof point[key] === "number" ? point[key] : null;
  }

  // Axis bounds on round numbers around the data, never beyond the scale's own range.
  function bounds(values, low, high, step) {
    const known = values.filter(function (v) { return v !== null; });
    if (known.length === 0) {
      return {};
    }
    const pad = step / 4;
    const min = Math.max(low, Math.floor((Math.min.apply(null, known) - pad) / step) * step);
    const max = Math.min(high, Math.ceil((Math.max.apply(null, known) + pad) / step) * step);
    return { min: min, max: max };
  }

  function clamp(v, low, high) {
    return v === null ? null : Math.min(high, Math.max(low, v));
  }

  function drawEngagement(canvas, trend, t) {
    const engagement = trend.map(function (p) { return value(p, "engagement"); });
    new Chart(canvas, {
      type: "line",
      data: {
        labels: trend.map(function (p) { return p.period; }),
        datasets: [line(t("engagement_index", "Engagement index"), engagement, BLUE)],
      },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return t("engagement", "Engagement") + ": " + charts.number(ctx.parsed.y, 2);
              },
            },
          },
        },
        // Scaled to the data, so that the unit's own changes are visible (see the axis).
        scales: { y: Object.assign({ ticks: { maxTicksLimit: 6 } }, bounds(engagement, 1, 5, 0.5)) },
      },
    });
  }

  // Draw each point's 95% margin of error as a vertical bar: unlike a band, it shows for a
  // cycle between two gaps too.
  function errorBars(low, high) {
    return {
      id: "errorBars",
      afterDatasetsDraw: function (chart) {
        const y = chart.scales.y;
        const ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = ORANGE;
        ctx.lineWidth = 1.5;
        chart.getDatasetMeta(0).data.forEach(function (point, i) {
          if (low[i] === null || high[i] === null) {
            return;
          }
          const top = y.getPixelForValue(high[i]);
          const bottom = y.getPixelForValue(low[i]);
          ctx.beginPath();
          ctx.moveTo(point.x, top);
          ctx.lineTo(point.x, bottom);
          ctx.moveTo(point.x - 4, top);
          ctx.lineTo(point.x + 4, top);
          ctx.moveTo(point.x - 4, bottom);
          ctx.lineTo(point.x + 4, bottom);
          ctx.stroke();
        });
        ctx.restore();
      },
    };
  }

  function drawEnps(canvas, trend, t) {
    const enps = trend.map(function (p) { return value(p, "enps"); });
    function edge(sign) {
      return trend.map(function (p) {
        const score = value(p, "enps");
        const moe = value(p, "enps_moe");
        return score === null || moe === null ? null : clamp(score + sign * moe, -100, 100);
      });
    }
    const low = edge(-1);
    const high = edge(1);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: trend.map(function (p) { return p.period; }),
        datasets: [line("eNPS", enps, ORANGE, { pointStyle: "rectRot", pointRadius: 4 })],
      },
      plugins: [errorBars(low, high)],
      options: {
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                const moe = value(trend[ctx.dataIndex], "enps_moe");
                const score = ctx.parsed.y;
                return "eNPS: " + (score > 0 ? "+" : "") + score.toFixed(0) +
                  (moe === null ? "" : " ± " + moe.toFixed(0));
              },
            },
          },
        },
        // Zero stays on the axis: the sign of eNPS matters more than its size.
        scales: { y: Object.assign({ ticks: { maxTicksLimit: 6 } },
                                   bounds(enps.concat(low, high, [0]), -100, 100, 50)) },
      },
    });
  }

  const draw = { engagement: drawEngagement, enps: drawEnps };
  document.querySelectorAll(".trend-charts[data-src]").forEach(function (group) {
    const t = charts.labels(group);
    charts.load(group, function (data) {
      group.querySelectorAll("canvas[data-series]").forEach(function (canvas) {
        draw[canvas.dataset.series](canvas, data.trend, t);
      });
    }, t("failed", "The chart could not be loaded; the table below has the same numbers."));
  });
})();
