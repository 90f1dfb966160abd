// The dashboard page: draws the four rankings, keeps every filter in the URL (so views can
// be shared, reloaded and navigated with back and forward), refreshes in place from the
// JSON API, and shows each chart's loading, empty and error states. The server renders the
// same page without this script, so nothing depends on it to be readable.
//
// Live refresh polls often (every LIVE_REFRESH_SECONDS) and cheaply: the browser revalidates
// its copy with If-None-Match, the server answers 304 while the figures are unchanged, and
// an answer whose ETag is the one already drawn is not drawn again.
"use strict";

(function () {
  // The server rendered the page for bad filters: the message, the presets and the form,
  // plain links and a plain form that work as they are; no figures, so nothing to draw.
  if (!document.getElementById("rankings-data")) return;

  const MAX_BACKOFF_MS = 5 * 60 * 1000;
  const FILTER_NAMES = ["start", "end", "state"];
  const STATES_RANKING = "states_by_turnover";
  const COLOURS = {
    states_by_turnover: "#2563eb",
    items_by_avg_qty: "#059669",
    items_by_total_qty: "#d97706",
    items_by_turnover: "#7c3aed",
  };

  // Money arrives as an exact decimal string; Intl formats the string itself, so tooltips
  // and tables show the exact amount, in the reader's locale.
  const FORMATS = {
    money: new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" }),
    average: new Intl.NumberFormat(undefined, { maximumFractionDigits: 2, minimumFractionDigits: 2 }),
    count: new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }),
  };
  // Axis ticks only need magnitude ("$120K").
  const TICKS = {
    money: new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", notation: "compact" }),
    average: new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 }),
    count: new Intl.NumberFormat(undefined, { notation: "compact" }),
  };
  const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
  const PERCENT = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  // Dates on the trend: ISO days read as UTC midnight, shown in UTC so no time zone shifts them.
  const DAY_FORMAT = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", month: "short", day: "numeric" });
  const LONG_DAY = new Intl.DateTimeFormat(undefined, {
    timeZone: "UTC", weekday: "short", year: "numeric", month: "short", day: "numeric",
  });
  const MONTH_FORMAT = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", year: "numeric", month: "short" });
  const LONG_MONTH = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", year: "numeric", month: "long" });
  const DAY_MS = 24 * 60 * 60 * 1000;

  const cards = [...document.querySelectorAll(".chart-card")];
  const trendCard = document.getElementById("trend");
  let trendChart = null;
  let shownTrend = null; // the trend's data as drawn (its ticks and tooltips read it)
  const charts = new Map();
  const form = document.querySelector("form.filters");
  const liveBox = document.getElementById("live-refresh");
  const status = document.getElementById("status");
  const lag = document.getElementById("lag");
  const showLagAfterSeconds = Number(lag.dataset.afterSeconds || 5);
  const refreshMs = Number(document.body.dataset.refreshSeconds || 1) * 1000;

  let query = queryFromLocation();
  let timer = null;
  let failures = 0;
  let inFlight = null;
  // The ETag of the figures on screen (the server-rendered ones to begin with).
  let drawnEtag = document.querySelector(".charts").dataset.etag || null;
  let drawnTrendEtag = (trendCard && trendCard.dataset.etag) || null;
  // Whether the figures on screen come with the period just before (a range with both ends).
  let compared = false;
  let lastFilters = {};

  function queryFromLocation() {
    const params = new URLSearchParams(window.location.search);
    const kept = new URLSearchParams();
    for (const name of FILTER_NAMES) if (params.get(name)) kept.set(name, params.get(name));
    return kept.toString();
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // Long item names would squeeze the bars on a phone; the tooltip and table keep them whole.
  // Chart.js gives the axis at most half the chart's width: on a phone, fewer characters fit.
  function shorten(label, chartWidth) {
    const room = Math.max(8, Math.min(22, Math.floor((chartWidth / 2 - 16) / 7)));
    return label.length > room ? label.slice(0, room - 1) + "\u2026" : label;
  }

  // The whole label, in lines short enough for the tooltip to fit a phone's chart.
  function wrap(label, width = 30) {
    const lines = [];
    let line = "";
    for (const word of String(label).split(" ")) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    return [...lines, line];
  }

  const ORDINAL_RULES = new Intl.PluralRules("en-US", { type: "ordinal" });
  const ORDINAL_SUFFIXES = { one: "st", two: "nd", few: "rd", other: "th" };
  function ordinal(number) {
    return `${number}${ORDINAL_SUFFIXES[ORDINAL_RULES.select(number)]}`;
  }

  function setStatus(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  // As the server words it (dashboard/web/freshness.py, lag_notice): "" when not behind.
  function lagText(behindSeconds) {
    if (behindSeconds === null || behindSeconds === undefined || behindSeconds <= showLagAfterSeconds) return "";
    const seconds = Math.round(behindSeconds);
    let amount = `${seconds} s`;
    if (seconds >= 120 * 60) amount = `${Math.round(seconds / 3600)} h`;
    else if (seconds >= 120) amount = `${Math.round(seconds / 60)} min`;
    return `Updating: ${amount} behind the shop's database`;
  }

  function showLag(freshness) {
    const text = lagText(freshness ? freshness.behind_seconds : null);
    if (lag.textContent !== text) lag.textContent = text;
  }

  function showState(card, state) {
    card.querySelector(".chart-box").hidden = state !== "chart";
    card.querySelector("table.data").hidden = state !== "chart";
    const placeLine = card.querySelector(".state-place");
    if (placeLine && state !== "chart") placeLine.hidden = true;
    for (const element of card.querySelectorAll(".chart-state")) element.hidden = element.dataset.state !== state;
    card.setAttribute("aria-busy", String(state === "loading"));
  }

  function draw(card, entries) {
    const name = card.dataset.ranking;
    const format = FORMATS[card.dataset.kind];
    const ticks = TICKS[card.dataset.kind];
    const existing = charts.get(name);
    const data = {
      labels: entries.map((entry) => entry.label),
      datasets: [
        {
          // Bar lengths only need to be close; exact figures are in the tooltip and table.
          data: entries.map((entry) => Number(entry.value)),
          exact: entries.map((entry) => entry.value),
          keys: entries.map((entry) => entry.key),
          moves: entries.map((entry, index) => (compared ? rankMove(entry.previous_rank, index + 1).spoken : "")),
          backgroundColor: COLOURS[name],
        },
      ],
    };
    if (existing) {
      existing.data = data;
      existing.update("none");
      return;
    }
    charts.set(
      name,
      new Chart(card.querySelector("canvas"), {
        type: "bar",
        data: data,
        options: {
          indexAxis: "y",
          maintainAspectRatio: false,
          animation: false,
          ...(name === STATES_RANKING ? drillDown : {}),
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                // The full name, however the axis cut it.
                title: (items) => wrap(items[0].chart.data.labels[items[0].dataIndex]),
                label: (item) => format.format(item.dataset.exact[item.dataIndex]),
                afterLabel: (item) => {
                  const move = item.dataset.moves[item.dataIndex];
                  return move ? `${move[0].toUpperCase()}${move.slice(1)} since ${previousWords(days(lastFilters))}` : "";
                },
              },
            },
          },
          scales: {
            x: { beginAtZero: true, ticks: { callback: (value) => ticks.format(value) } },
            y: {
              ticks: {
                callback: function (value) {
                  return shorten(this.getLabelForValue(value), this.chart.width);
                },
              },
            },
          },
        },
      })
    );
  }

  // Clicking a state's bar filters the whole dashboard to that state.
  const drillDown = {
    onClick: (event, elements, chart) => {
      if (!elements.length) return;
      navigate(withParams({ state: chart.data.datasets[0].keys[elements[0].index] }));
    },
    onHover: (event, elements) => {
      event.native.target.style.cursor = elements.length ? "pointer" : "default";
    },
  };

  // `place`: with a state chosen, its {rank, of} among all the states (else null): its row
  // shows that rank, not "1".
  function fillTable(card, entries, place) {
    const format = FORMATS[card.dataset.kind];
    card.querySelector("table.data th.move").hidden = !compared;
    const body = card.querySelector("table.data tbody");
    body.replaceChildren(
      ...entries.map((entry, index) => {
        const row = document.createElement("tr");
        const rank = document.createElement("td");
        rank.textContent = String(place ? place.rank : index + 1);
        const label = document.createElement("th");
        label.scope = "row";
        // A state's name filters the dashboard to it, as a click on its bar does.
        if (card.dataset.ranking === STATES_RANKING) label.append(stateLink(entry));
        else label.textContent = entry.label;
        const value = document.createElement("td");
        value.className = "num";
        value.textContent = format.format(entry.value);
        row.append(rank, label, value);
        if (compared) row.append(moveCell(entry.previous_rank, place ? place.rank : index + 1));
        return row;
      })
    );
  }

  function describe(card, entries) {
    const format = FORMATS[card.dataset.kind];
    const title = card.querySelector("h2").textContent;
    const items = entries.map((entry) => `${entry.label} ${format.format(entry.value)}`).join("; ");
    card.querySelector("canvas").setAttribute("aria-label", `${title}: ${items}`);
  }

  // The state filter's own options hold every state's name.
  function stateName(code) {
    const option = [...form.elements.state.options].find((candidate) => candidate.value === code);
    return option ? option.textContent : code;
  }

  function scopeText(filters) {
    const state = filters.state ? ` in ${stateName(filters.state)}` : "";
    if (!filters.start && !filters.end) return `All orders${state}`;
    return `Orders dated${filters.start ? ` from ${filters.start}` : ""}${filters.end ? ` to ${filters.end}` : ""}${state}`;
  }

  // The query with some filters changed, always in the same order (as the server writes it).
  function withParams(changes) {
    const current = new URLSearchParams(query);
    const params = new URLSearchParams();
    for (const name of FILTER_NAMES) {
      const value = name in changes ? changes[name] : current.get(name);
      if (value) params.set(name, value);
    }
    return params.toString();
  }

  function renderHeadline(headline, filters) {
    for (const figure of document.querySelectorAll("#headline [data-figure]")) {
      const value = headline[figure.dataset.figure];
      figure.textContent = value === null ? "\u2014" : FORMATS[figure.dataset.kind].format(value);
      const delta = document.querySelector(`#headline [data-delta="${figure.dataset.figure}"]`);
      if (delta) showChange(delta, figureChange(value, headline.previous, figure, filters));
    }
  }

  // --- The comparison with the period just before (worded as dashboard_format.py does) ----

  const ARROWS = { up: "\u25b2", down: "\u25bc", same: "=", new: "\u25b2" };

  function isoDay(text) {
    const [year, month, day] = text.split("-").map(Number);
    return Date.UTC(year, month - 1, day);
  }

  function isoText(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  // Days in the filters' range, both ends included; null when it is open.
  function days(filters) {
    if (!filters || !filters.start || !filters.end) return null;
    return Math.round((isoDay(filters.end) - isoDay(filters.start)) / DAY_MS) + 1;
  }

  function previousWords(count) {
    return count === 1 ? "the previous day" : `the previous ${FORMATS.count.format(count)} days`;
  }

  // Exact figures as whole units of their smallest step: money in cents, counts as they are.
  function units(value, kind) {
    return kind === "money" ? Math.round(Number(value) * 100) : Number(value);
  }

  // {direction, arrow, text, title}, or null when there is nothing to say.
  function figureChange(value, previousHeadline, figure, filters) {
    const count = days(filters);
    if (!previousHeadline || count === null || value === null || value === undefined) return null;
    const kind = figure.dataset.kind;
    const previous = previousHeadline[figure.dataset.figure];
    const period = previousWords(count);
    const first = isoText(isoDay(filters.start) - count * DAY_MS);
    const last = isoText(isoDay(filters.start) - DAY_MS);
    const dates = count === 1 ? first : `${first} to ${last}`;
    const shown = previous === null ? "no orders" : FORMATS[kind].format(previous);
    const title = `${period[0].toUpperCase()}${period.slice(1)} (${dates}): ${shown}`;
    const now = units(value, kind);
    const before = previous === null ? 0 : units(previous, kind);
    if (before === 0) {
      if (now === 0) return { direction: "same", text: `no change vs ${period}`, title };
      return { direction: "new", text: `new: none in ${period}`, title };
    }
    if (now === before) return { direction: "same", text: `no change vs ${period}`, title };
    // Tenths of a percent, rounded half up on the magnitude.
    const tenths = Math.round((Math.abs(now - before) * 1000) / before);
    const sign = now > before ? "+" : "\u2212";
    return { direction: now > before ? "up" : "down", text: `${sign}${PERCENT.format(tenths / 10)}% vs ${period}`, title };
  }

  function showChange(element, change) {
    element.hidden = !change;
    element.className = change ? `delta ${change.direction}` : "delta";
    if (!change) {
      element.replaceChildren();
      element.removeAttribute("title");
      return;
    }
    const arrow = document.createElement("span");
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = ARROWS[change.direction];
    element.replaceChildren(arrow, ` ${change.text}`);
    element.title = change.title;
  }

  // A ranking row's movement since the period just before.
  function rankMove(previousRank, rank) {
    const period = previousWords(days(lastFilters));
    if (previousRank === null || previousRank === undefined) {
      return { direction: "new", shown: "new", spoken: `new: not ranked in ${period}`, title: `Not ranked in ${period}` };
    }
    const title = `${ordinal(previousRank)} in ${period}`;
    const places = Math.abs(previousRank - rank);
    const unit = places === 1 ? "place" : "places";
    if (previousRank > rank) return { direction: "up", shown: `${ARROWS.up} ${places}`, spoken: `up ${places} ${unit}`, title };
    if (previousRank < rank) return { direction: "down", shown: `${ARROWS.down} ${places}`, spoken: `down ${places} ${unit}`, title };
    return { direction: "same", shown: "=", spoken: "same place", title };
  }

  function moveCell(previousRank, rank) {
    const move = rankMove(previousRank, rank);
    const cell = document.createElement("td");
    cell.className = `move ${move.direction}`;
    cell.title = move.title;
    const shown = document.createElement("span");
    shown.setAttribute("aria-hidden", "true");
    shown.textContent = move.shown;
    const spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.textContent = move.spoken;
    cell.append(shown, spoken);
    return cell;
  }

  function stateLink(entry) {
    const link = document.createElement("a");
    link.href = `?${withParams({ state: entry.key })}`;
    link.dataset.state = entry.key;
    link.textContent = entry.label;
    return link;
  }

  // With a state chosen, one bar would say nothing: the states card says where that state
  // ranks among all of them instead (payload.state_place, when the server sends it).
  function showPlace(card, place, filters) {
    const line = card.querySelector(".state-place");
    if (!line) return;
    line.hidden = !place;
    card.querySelector(".chart-box").hidden = Boolean(place);
    // A sentence and one row: the card takes a strip across the grid, not a chart's height.
    card.classList.toggle("drilled", Boolean(place));
    if (!place) return;
    const range = filters.start || filters.end ? "in this range" : "over all time";
    const states = place.of === 1 ? "state" : "states";
    line.textContent = `${stateName(filters.state)} ranks ${ordinal(place.rank)} of ${place.of} ${states} by turnover ${range}.`;
  }

  function render(data) {
    lastFilters = data.filters;
    compared = Boolean(data.headline && data.headline.previous && days(data.filters) !== null);
    const filtered = Boolean(data.filters.start || data.filters.end || data.filters.state);
    const place = (data.filters.state && data.state_place) || null;
    for (const card of cards) {
      const entries = data.rankings[card.dataset.ranking];
      if (!entries.length) {
        card.querySelector('[data-state="empty"]').textContent = filtered
          ? "No orders in this range."
          : "No orders yet. Load sample data with python scripts/gen_data.py.";
        showState(card, "empty");
        continue;
      }
      const states = card.dataset.ranking === STATES_RANKING;
      showState(card, "chart");
      draw(card, entries);
      fillTable(card, entries, states ? place : null);
      describe(card, entries);
      if (states) showPlace(card, place, data.filters);
    }
    document.getElementById("scope").textContent = scopeText(data.filters);
    renderHeadline(data.headline, data.filters);
    showLag(data.freshness);
    const notices = (data.notices || []).join(" ");
    const noticeLine = document.getElementById("notices");
    if (noticeLine && noticeLine.textContent !== notices) noticeLine.textContent = notices;
    const updated = document.getElementById("last-updated");
    updated.textContent = `Updated ${TIME.format(new Date(data.generated_at))}`;
  }


  // --- The trend: turnover (a line, left axis) and orders (bars, right axis) per bucket ----

  const HEADINGS = { day: "Day", week: "Week starting", month: "Month starting" };

  function showTrendState(state) {
    if (!trendCard) return;
    trendCard.querySelector(".trend-box").hidden = state !== "chart";
    trendCard.querySelector(".trend-table").hidden = state !== "chart";
    if (state !== "chart") trendCard.querySelector(".trend-note").hidden = true;
    for (const element of trendCard.querySelectorAll(".trend-state")) element.hidden = element.dataset.trendState !== state;
    trendCard.setAttribute("aria-busy", String(state === "loading"));
  }

  // A bucket's first and last day as counted: a week or month cut by the range's ends.
  function bucketSpan(data, index) {
    const point = data.points[index];
    const next = data.points[index + 1];
    let first = isoDay(point.start);
    let last;
    if (next) last = isoDay(next.start) - DAY_MS;
    else if (data.bucket === "day") last = first;
    else if (data.bucket === "week") last = first + 6 * DAY_MS;
    else {
      const start = new Date(first);
      last = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1) - DAY_MS;
    }
    if (data.start) first = Math.max(first, isoDay(data.start));
    if (data.end) last = Math.min(last, isoDay(data.end));
    return [first, last];
  }

  function bucketTitle(data, index) {
    const [first, last] = bucketSpan(data, index);
    if (first === last) return LONG_DAY.format(first);
    const point = isoDay(data.points[index].start);
    if (data.bucket === "month" && first === point && new Date(last + DAY_MS).getUTCDate() === 1) {
      return LONG_MONTH.format(first);
    }
    return LONG_DAY.formatRange(first, last);
  }

  function tickLabel(bucket, start) {
    return (bucket === "month" ? MONTH_FORMAT : DAY_FORMAT).format(isoDay(start));
  }

  function trendColours() {
    return {
      line: cssVar("--trend-line"),
      bars: cssVar("--trend-bars"),
      partialBars: cssVar("--trend-bars-partial"),
      card: cssVar("--card"),
    };
  }

  // A week or month the range covers only in part ("partial": true) is drawn as such: a
  // hollow point, a dashed line to it and a lighter bar, so it does not read as a dip.
  function isPartial(index) {
    return Boolean(shownTrend && shownTrend.points[index] && shownTrend.points[index].partial);
  }

  function drawTrend(data) {
    const colours = trendColours();
    const partial = data.points.map((point) => Boolean(point.partial));
    const radius = data.points.length > 60 ? 0 : 3;
    const chartData = {
      labels: data.points.map((point) => point.start),
      datasets: [
        {
          type: "line",
          label: "Turnover",
          // The line's height only needs to be close; the tooltip and table are exact.
          data: data.points.map((point) => Number(point.turnover)),
          exact: data.points.map((point) => point.turnover),
          borderColor: colours.line,
          backgroundColor: colours.line,
          pointRadius: partial.map((part) => (part ? 4 : radius)),
          pointBackgroundColor: partial.map((part) => (part ? colours.card : colours.line)),
          partial,
          segment: {
            borderDash: (context) => (isPartial(context.p0DataIndex) || isPartial(context.p1DataIndex) ? [6, 4] : undefined),
          },
          pointHitRadius: 8,
          borderWidth: 2,
          tension: 0,
          yAxisID: "y",
          order: 0,
        },
        {
          type: "bar",
          label: "Orders",
          data: data.points.map((point) => point.orders),
          backgroundColor: partial.map((part) => (part ? colours.partialBars : colours.bars)),
          partial,
          yAxisID: "y1",
          order: 1,
        },
      ],
    };
    const bucket = data.bucket;
    shownTrend = data;
    if (trendChart) {
      trendChart.data = chartData;
      trendChart.options.scales.y.title.text = `Turnover per ${bucket}`;
      trendChart.options.scales.y1.title.text = `Orders per ${bucket}`;
      trendChart.update("none");
      return;
    }
    trendChart = new Chart(trendCard.querySelector("canvas"), {
      data: chartData,
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              title: (items) => bucketTitle(shownTrend, items[0].dataIndex),
              footer: (items) =>
                items.length && isPartial(items[0].dataIndex)
                  ? `Partial ${shownTrend.bucket}: only these days are in the range`
                  : "",
              label: (item) =>
                item.dataset.type === "line"
                  ? `Turnover: ${FORMATS.money.format(item.dataset.exact[item.dataIndex])}`
                  : `Orders: ${FORMATS.count.format(item.raw)}`,
            },
          },
        },
        scales: {
          x: {
            grid: { display: false },
            ticks: {
              maxRotation: 0,
              autoSkip: true,
              autoSkipPadding: 12,
              callback: function (value) {
                return tickLabel(shownTrend.bucket, this.getLabelForValue(value));
              },
            },
          },
          y: {
            beginAtZero: true,
            position: "left",
            title: { display: true, text: `Turnover per ${bucket}` },
            ticks: { callback: (value) => TICKS.money.format(value) },
          },
          y1: {
            beginAtZero: true,
            position: "right",
            display: "auto",
            grid: { drawOnChartArea: false },
            title: { display: true, text: `Orders per ${bucket}` },
            ticks: { precision: 0, callback: (value) => TICKS.count.format(value) },
          },
        },
      },
    });
  }

  function fillTrendTable(data) {
    trendCard.querySelector(".bucket-heading").textContent = HEADINGS[data.bucket];
    trendCard.querySelector("table.data tbody").replaceChildren(
      ...data.points.map((point) => {
        const row = document.createElement("tr");
        const start = document.createElement("th");
        start.scope = "row";
        const time = document.createElement("time");
        time.dateTime = point.start;
        time.textContent = point.start;
        start.append(time);
        if (point.partial) {
          const mark = document.createElement("span");
          mark.className = "partial-mark";
          mark.textContent = " (partial)";
          start.append(mark);
        }
        const turnover = document.createElement("td");
        turnover.className = "num";
        turnover.textContent = FORMATS.money.format(point.turnover);
        const orders = document.createElement("td");
        orders.className = "num";
        orders.textContent = FORMATS.count.format(point.orders);
        row.append(start, turnover, orders);
        return row;
      })
    );
  }

  function renderTrend(data) {
    if (!trendCard) return;
    for (const element of trendCard.querySelectorAll(".bucket")) element.textContent = data.bucket;
    const range = data.start ? ` from ${data.start} to ${data.end}` : "";
    trendCard
      .querySelector("canvas")
      .setAttribute("aria-label", `Turnover and orders per ${data.bucket}${range}: the figures are in the table below.`);
    const hasOrders = data.points.some((point) => point.orders > 0 || Number(point.turnover) !== 0);
    if (!hasOrders) {
      const filtered = Boolean(data.filters.start || data.filters.end || data.filters.state);
      trendCard.querySelector('[data-trend-state="empty"]').textContent = filtered
        ? "No orders to plot in this range."
        : "No orders to plot yet.";
      showTrendState("empty");
      return;
    }
    showTrendState("chart");
    trendCard.querySelector(".trend-note").hidden = !data.points.some((point) => point.partial);
    drawTrend(data);
    fillTrendTable(data);
  }

  // A state the orders hold that the menu does not list (no US state or territory).
  function listState(code) {
    const menu = form.elements.state;
    if (code && ![...menu.options].some((option) => option.value === code)) menu.add(new Option(code, code));
  }

  function syncControls() {
    const params = new URLSearchParams(query);
    listState(params.get("state"));
    for (const name of FILTER_NAMES) form.elements[name].value = params.get(name) || "";
    for (const link of document.querySelectorAll(".presets a")) {
      link.setAttribute("href", `?${presetQuery(link)}`);
      const current = link.dataset.start === (params.get("start") || "") && link.dataset.end === (params.get("end") || "");
      if (current) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
    const chip = document.getElementById("clear-state");
    chip.hidden = !params.get("state");
    chip.querySelector("span").textContent = stateName(params.get("state") || "");
    chip.setAttribute("href", `?${withParams({ state: "" })}`);
    for (const link of document.querySelectorAll("a.csv")) {
      link.setAttribute("href", link.dataset.base + (query ? `?${query}` : ""));
    }
  }

  async function errorMessage(response) {
    if (response.status === 401) return "Your session has ended: reload the page to log in again.";
    try {
      return (await response.json()).error || `the server answered ${response.status}`;
    } catch (error) {
      return `the server answered ${response.status}`;
    }
  }

  function nextDelay() {
    return Math.min(refreshMs * 2 ** failures, MAX_BACKOFF_MS);
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (liveBox.checked && !document.hidden) timer = setTimeout(() => load("refresh"), nextDelay());
  }

  // One API answer as JSON, or null when its ETag is `drawn` on a refresh (nothing new to
  // draw). "no-cache": revalidate the browser's copy (If-None-Match) on every poll; on 304
  // the browser hands back that copy, with its ETag.
  async function fetchFigures(path, reason, drawn, signal) {
    const response = await fetch(`${path}${query ? `?${query}` : ""}`, {
      headers: { Accept: "application/json" },
      cache: "no-cache",
      signal: signal,
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    const etag = response.headers.get("ETag");
    // A refresh whose figures are those on screen draws nothing; a navigation or a retry
    // (cards showing loading or error) always draws.
    if (reason === "refresh" && etag && etag === drawn) return { etag, data: null };
    return { etag, data: await response.json() };
  }

  // reason: "navigate" (new filters: show loading), "refresh" (in place), "retry".
  async function load(reason) {
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    clearTimeout(timer);
    if (reason !== "refresh") {
      for (const card of cards) showState(card, "loading");
      showTrendState("loading");
    }
    // The rankings and the trend are asked for together; each draws what it got.
    const [rankingsAnswer, trendAnswer] = await Promise.allSettled([
      fetchFigures("/api/rankings/", reason, drawnEtag, controller.signal),
      trendCard ? fetchFigures("/api/trend/", reason, drawnTrendEtag, controller.signal) : Promise.resolve(null),
    ]);
    try {
      if ([rankingsAnswer, trendAnswer].some((answer) => answer.status === "rejected" && answer.reason.name === "AbortError")) {
        return;
      }
      const errors = [];
      if (rankingsAnswer.status === "fulfilled") {
        if (rankingsAnswer.value.data) render(rankingsAnswer.value.data);
        drawnEtag = rankingsAnswer.value.etag;
      } else {
        errors.push(["rankings", rankingsAnswer.reason]);
        if (reason !== "refresh") for (const card of cards) showState(card, "error");
      }
      if (trendAnswer.status === "fulfilled") {
        if (trendAnswer.value && trendAnswer.value.data) renderTrend(trendAnswer.value.data);
        if (trendAnswer.value) drawnTrendEtag = trendAnswer.value.etag;
      } else {
        errors.push(["trend", trendAnswer.reason]);
        if (reason !== "refresh") showTrendState("error");
      }
      if (!errors.length) {
        failures = 0;
        setStatus("");
        return;
      }
      failures += 1;
      const [what, error] = errors[0];
      if (reason === "refresh") {
        setStatus(`Couldn't refresh (${error.message}); trying again in ${Math.round(nextDelay() / 1000)} s.`, true);
      } else {
        setStatus(`Couldn't load the ${what}: ${error.message}.`, true);
      }
    } finally {
      if (inFlight === controller) {
        inFlight = null;
        schedule();
      }
    }
  }

  // A preset sets the dates and keeps the state filter.
  function presetQuery(link) {
    return withParams({ start: link.dataset.start, end: link.dataset.end });
  }

  function navigate(nextQuery) {
    if (nextQuery !== query) {
      query = nextQuery;
      history.pushState(null, "", query ? `?${query}` : window.location.pathname);
    }
    syncControls();
    load("navigate");
  }

  function init() {
    // The chart spaces show only with this script (dashboard.css): without it, the tables.
    document.documentElement.classList.add("js");
    Chart.defaults.color = cssVar("--muted");
    Chart.defaults.borderColor = cssVar("--border");
    // null when the server could not get the figures: the cards already show their error
    // state, and the next refresh (or Retry) fills them in.
    const initial = JSON.parse(document.getElementById("rankings-data").textContent);
    if (initial) render(initial);
    const trendData = document.getElementById("trend-data");
    const initialTrend = trendData && JSON.parse(trendData.textContent);
    if (initialTrend) renderTrend(initialTrend);
    // Without this script the trend's table shows open; with the chart drawn, it folds away.
    if (trendCard) trendCard.querySelector(".trend-table").open = false;
    syncControls();

    for (const link of document.querySelectorAll(".presets a")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        navigate(presetQuery(link));
      });
    }
    document.getElementById("clear-state").addEventListener("click", (event) => {
      event.preventDefault();
      navigate(withParams({ state: "" }));
    });
    // Links to a state in the states table (drawn now or later).
    document.querySelector(".charts").addEventListener("click", (event) => {
      const link = event.target.closest("a[data-state]");
      if (!link) return;
      event.preventDefault();
      navigate(withParams({ state: link.dataset.state }));
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const params = new URLSearchParams();
      for (const name of FILTER_NAMES) if (form.elements[name].value) params.set(name, form.elements[name].value);
      const start = params.get("start");
      const end = params.get("end");
      if (start && end && start > end) {
        setStatus("The start date must be on or before the end date.", true);
        return;
      }
      navigate(params.toString());
    });
    window.addEventListener("popstate", () => {
      query = queryFromLocation();
      syncControls();
      load("navigate");
    });
    for (const button of document.querySelectorAll("button.retry")) {
      button.addEventListener("click", () => load("retry"));
    }
    liveBox.addEventListener("change", () => (liveBox.checked ? load("refresh") : schedule()));
    document.addEventListener("visibilitychange", () => (document.hidden ? schedule() : load("refresh")));
    schedule();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
