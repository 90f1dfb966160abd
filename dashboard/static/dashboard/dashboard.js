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

  const cards = [...document.querySelectorAll(".chart-card")];
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

  function renderHeadline(headline) {
    for (const figure of document.querySelectorAll("#headline [data-figure]")) {
      const value = headline[figure.dataset.figure];
      figure.textContent = value === null ? "\u2014" : FORMATS[figure.dataset.kind].format(value);
    }
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
    if (!place) return;
    const range = filters.start || filters.end ? "in this range" : "over all time";
    const states = place.of === 1 ? "state" : "states";
    line.textContent = `${stateName(filters.state)} ranks ${ordinal(place.rank)} of ${place.of} ${states} by turnover ${range}.`;
  }

  function render(data) {
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
    renderHeadline(data.headline);
    showLag(data.freshness);
    const notices = (data.notices || []).join(" ");
    const noticeLine = document.getElementById("notices");
    if (noticeLine && noticeLine.textContent !== notices) noticeLine.textContent = notices;
    const updated = document.getElementById("last-updated");
    updated.textContent = `Updated ${TIME.format(new Date(data.generated_at))}`;
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

  // reason: "navigate" (new filters: show loading), "refresh" (in place), "retry".
  async function load(reason) {
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    clearTimeout(timer);
    if (reason !== "refresh") for (const card of cards) showState(card, "loading");
    try {
      // "no-cache": revalidate the browser's copy (If-None-Match) on every poll; on 304 the
      // browser hands back that copy, with its ETag.
      const response = await fetch(`/api/rankings/${query ? `?${query}` : ""}`, {
        headers: { Accept: "application/json" },
        cache: "no-cache",
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(await errorMessage(response));
      const etag = response.headers.get("ETag");
      // A refresh whose figures are those on screen draws nothing; a navigation or a retry
      // (cards showing loading or error) always draws.
      if (!(reason === "refresh" && etag && etag === drawnEtag)) {
        render(await response.json());
        drawnEtag = etag;
      }
      failures = 0;
      setStatus("");
    } catch (error) {
      if (error.name === "AbortError") return;
      failures += 1;
      if (reason === "refresh") {
        setStatus(`Couldn't refresh (${error.message}); trying again in ${Math.round(nextDelay() / 1000)} s.`, true);
      } else {
        for (const card of cards) showState(card, "error");
        setStatus(`Couldn't load the rankings: ${error.message}.`, true);
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
    Chart.defaults.color = cssVar("--muted");
    Chart.defaults.borderColor = cssVar("--border");
    // null when the server could not get the figures: the cards already show their error
    // state, and the next refresh (or Retry) fills them in.
    const initial = JSON.parse(document.getElementById("rankings-data").textContent);
    if (initial) render(initial);
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

  // The server rendered an error page for bad filters: nothing to draw.
  if (!document.getElementById("rankings-data")) return;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
