// Draws one horizontal bar chart per ranking from the JSON the page embeds
// (the same document /api/rankings/ returns).
"use strict";

(function () {
  const COLOURS = {
    states_by_turnover: "#2563eb",
    items_by_avg_qty: "#059669",
    items_by_total_qty: "#d97706",
    items_by_turnover: "#7c3aed",
  };

  // Money arrives as an exact decimal string; Intl formats the string itself, so the
  // tooltip shows the exact amount even where a float would round it.
  const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" });
  const average = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  const count = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const FORMATS = { money: money, average: average, count: count };
  // Axis ticks only need magnitude ("$120K"); the exact figures are in tooltips and tables.
  const TICKS = {
    money: new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", notation: "compact" }),
    average: average,
    count: new Intl.NumberFormat(undefined, { notation: "compact" }),
  };

  // Long item names would squeeze the bars on a phone; the tooltip and table keep them whole.
  function shorten(label) {
    return label.length > 22 ? label.slice(0, 21) + "\u2026" : label;
  }

  function draw(canvas, entries) {
    const format = FORMATS[canvas.dataset.kind];
    const ticks = TICKS[canvas.dataset.kind];
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: entries.map((entry) => entry.label),
        datasets: [
          {
            label: canvas.closest("section").querySelector("h2").textContent,
            // Bar lengths only need to be close; exact figures are in the tooltip and table.
            data: entries.map((entry) => Number(entry.value)),
            exact: entries.map((entry) => entry.value),
            backgroundColor: COLOURS[canvas.dataset.ranking],
          },
        ],
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => entries[items[0].dataIndex].label,
              label: (item) => format.format(item.dataset.exact[item.dataIndex]),
            },
          },
        },
        scales: {
          x: { beginAtZero: true, ticks: { callback: (value) => ticks.format(value) } },
          y: { ticks: { callback: (value, index) => shorten(entries[index].label) } },
        },
      },
    });
  }

  function init() {
    const data = JSON.parse(document.getElementById("rankings-data").textContent);
    for (const canvas of document.querySelectorAll("canvas[data-ranking]")) {
      draw(canvas, data.rankings[canvas.dataset.ranking]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
