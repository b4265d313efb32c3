// textcl dashboard: polls /api/state and draws it. Every text from the stream is
// inserted with textContent (never as HTML): tweets contain markup.
"use strict";

const POLL_MS = 1500;
const SVG = "http://www.w3.org/2000/svg";
const drawn = {};      // section -> the JSON it was last drawn from
let labelNames = ["label"];
let classes = {};      // label name -> known classes

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function replace(id, ...children) {
  const node = document.getElementById(id);
  node.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function day(iso) { return iso ? String(iso).slice(0, 16).replace("T", " ") : ""; }

function changed(name, value) {
  const json = JSON.stringify(value);
  if (drawn[name] === json) return false;
  drawn[name] = json;
  return true;
}

function token() { return sessionStorage.getItem("textcl-token") || ""; }

async function sendLabel(id, name, value) {
  const status = document.getElementById("label-status");
  const headers = {"Content-Type": "application/json"};
  if (token()) headers["X-Textcl-Token"] = token();
  try {
    const response = await fetch("/api/label", {method: "POST", headers,
      body: JSON.stringify({id, name, value})});
    const body = await response.json();
    status.textContent = response.ok
      ? (body.written ? `labelled ${id} as ${name} = ${value}` : `already labelled ${value}`)
      : `not labelled: ${body.error}`;
    status.className = response.ok ? "given" : "out";
  } catch (error) {
    status.textContent = `not labelled: ${error}`;
    status.className = "out";
  }
  delete drawn.queue;
  refresh();
}

function labelControls(tweet, given) {
  const box = el("div", {class: "labels"});
  for (const name of labelNames) {
    const prefix = labelNames.length > 1 ? `${name}: ` : "";
    for (const value of classes[name] || []) {
      const button = el("button", {type: "button", class: "label-btn", "data-name": name,
        "data-value": value}, prefix + value);
      if (given[name] === value) button.classList.add("chosen");
      button.addEventListener("click", () => sendLabel(tweet.id, name, value));
      box.append(button);
    }
    const input = el("input", {type: "text", placeholder: `${name}…`, maxLength: 64,
      class: "label-input", "data-name": name});
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && input.value.trim())
        sendLabel(tweet.id, name, input.value.trim());
    });
    box.append(input);
  }
  const done = Object.entries(given).map(([k, v]) => `${k} = ${v}`).join(", ");
  if (done) box.append(el("span", {class: "given"}, `✓ ${done}`));
  return box;
}

function tweetItem(tweet, why, labels) {
  return el("li", {class: "tweet", "data-id": tweet.id},
    el("div", {class: "text"}, tweet.text),
    why ? el("div", {class: "why"}, why) : null,
    labels ? labelControls(tweet, labels[tweet.id] || {}) : null);
}

function drawProgress(state) {
  const p = state.progress || {};
  const run = document.getElementById("run-state");
  run.textContent = p.state || (state.finished ? "done" : "waiting for the run");
  run.className = `pill ${p.state || ""}`;
  document.getElementById("out").textContent = state.out;
  const items = [["read", p.read], ["tweets", p.processed], ["rejected", p.rejected],
    ["windows", p.windows], ["tweets/s", p.tweets_per_s], ["stream time", day(p.stream_time)]];
  replace("progress", ...items.map(([k, v]) =>
    el("div", {}, el("dt", {}, k), el("dd", {}, v === undefined || v === null ? "–" :
      (typeof v === "number" ? v.toLocaleString() : v)))));
}

function drawKeywords(k, now) {
  document.getElementById("keyword-count").textContent = `${k.members.length} terms, ` +
    `${k.transitions} changes`;
  replace("keywords", ...k.members.map((m) => el("span", {class: "chip kw-chip",
    title: `score ${m.score}; since ${day(m.time)}; ${m.reason || ""}`}, m.term)));
  replace("transitions", ...k.recent.map((t) => el("li", {},
    el("span", {class: t.action}, t.action === "in" ? "in " : "out "),
    el("b", {}, t.term), ` ${day(t.time)} — ${t.reason || ""}`)));
  drawTimeline(k.timeline, now);
}

function timeRange(rows, now) {
  let lo = Infinity, hi = now ? Date.parse(now) : -Infinity;
  for (const row of rows) for (const [a, b] of row.spans) {
    const start = Date.parse(a), end = b ? Date.parse(b) : NaN;
    if (!isNaN(start)) { lo = Math.min(lo, start); hi = Math.max(hi, start); }
    if (!isNaN(end)) hi = Math.max(hi, end);
  }
  return [lo, hi];
}

function axisTicks(box, lo, hi, x0, width, y) {
  // at most one label per ~110 px; hours shown when the span is under three days
  const n = Math.max(2, Math.min(8, Math.floor(width / 110)));
  const hours = hi - lo < 3 * 86400e3;
  for (let i = 0; i <= n; i++) {
    const t = lo + (hi - lo) * i / n, x = x0 + width * i / n;
    const iso = new Date(t).toISOString();
    box.append(svg("line", {x1: x, x2: x, y1: 0, y2: y, stroke: "#eceff3"}));
    box.append(svg("text", {x, y: y + 12, "text-anchor": i === 0 ? "start" : i === n ? "end" :
      "middle"}, hours ? iso.slice(5, 16).replace("T", " ") : iso.slice(0, 10)));
  }
}

function drawTimeline(rows, now) {
  if (!rows.length) { replace("timeline", el("p", {class: "muted"}, "no keywords yet")); return; }
  const [lo, hiSeen] = timeRange(rows, now);
  const hi = Math.max(hiSeen, lo + 3600e3);
  const rowH = 14, left = 150, width = 900, height = rows.length * rowH;
  const box = svg("svg", {viewBox: `0 0 ${left + width + 10} ${height + 20}`});
  axisTicks(box, lo, hi, left, width, height);
  const x = (t) => left + width * (t - lo) / (hi - lo);
  rows.forEach((row, i) => {
    const y = i * rowH;
    box.append(svg("text", {x: left - 6, y: y + 10, "text-anchor": "end"}, row.term));
    for (const [a, b] of row.spans) {
      const start = x(Date.parse(a)), end = x(b ? Date.parse(b) : hi);
      const rect = svg("rect", {x: start, y: y + 2, width: Math.max(2, end - start),
        height: rowH - 4, rx: 2, fill: b ? "#9fb3d9" : "#2f5fd0"});
      rect.append(svg("title", {}, `${row.term}: ${day(a)} → ${b ? day(b) : "now"}`));
      box.append(rect);
    }
  });
  replace("timeline", box);
}

function drawQueue(selection, labels) {
  const note = document.getElementById("queue-note");
  if (!selection.enabled) {
    note.textContent = "— active learning is off: run with -p classify or [selection] enabled";
    replace("queue");
    return;
  }
  note.textContent = `${selection.picks.length} selected tweets, newest first`;
  replace("queue", ...selection.picks.map((p) =>
    tweetItem(p, `window ${p.window} · ${p.reason || ""}`, labels)));
}

function drawEvents(events) {
  // each group of the keyword set shows the bursts it held this window (terms written
  // about together beyond chance) with their tweets; the other terms on one line
  const bursts = events.live.flatMap((e) => (e.bursts || []).map((b) => ({...b, group: e.group,
    since: e.since})));
  bursts.sort((a, b) => b.terms.length - a.terms.length);
  const loose = events.live.flatMap((e) => e.loose || []);
  replace("events", ...bursts.map((b) => el("div", {class: "event", "data-group": b.group},
    el("div", {class: "terms"}, b.terms.slice(0, 12).join(" · ") +
      (b.terms.length > 12 ? ` … (${b.terms.length})` : "")),
    el("div", {class: "muted"}, `group ${b.group}, since ${day(b.since)}`),
    el("ol", {class: "tweets examples"}, ...(b.tweets || []).slice(0, 2).map((t) =>
      tweetItem(t, null, null))))),
  loose.length ? el("div", {class: "event muted"},
    `no burst this window: ${loose.slice(0, 40).join(", ")}`) : null);
  replace("ended-events", ...events.ended.map((e) => el("li", {},
    el("b", {}, e.terms.slice(0, 6).join(" · ")), ` ${day(e.since)} → ${day(e.until)}`)));
}

function lineChart(points, series) {
  const w = 520, h = 160, left = 30, bottom = 18;
  const box = svg("svg", {viewBox: `0 0 ${w} ${h + bottom}`});
  for (const v of [0, 0.5, 1]) {
    const y = h - v * (h - 10);
    box.append(svg("line", {x1: left, x2: w, y1: y, y2: y, stroke: "#eceff3"}));
    box.append(svg("text", {x: left - 4, y: y + 3, "text-anchor": "end"}, v));
  }
  const n = Math.max(points.length - 1, 1);
  const step = Math.max(1, Math.ceil(points.length / 6));
  points.forEach((p, i) => {
    if (i % step === 0) box.append(svg("text", {x: left + (w - left) * i / n, y: h + 14,
      "text-anchor": "middle"}, String(p.start || p.window).slice(0, 10)));
  });
  series.forEach(([key, colour, label], s) => {
    const path = points.map((p, i) => p[key] === null || p[key] === undefined ? null :
      `${left + (w - left) * i / n},${h - p[key] * (h - 10)}`).filter(Boolean);
    if (path.length) box.append(svg("polyline", {points: path.join(" "), fill: "none",
      stroke: colour, "stroke-width": 1.5}));
    box.append(svg("text", {x: left + 8 + s * 150, y: 10, fill: colour}, label));
  });
  return box;
}

function smoothed(points, keys) {
  // a mean over the last k windows (k grows with the run) so that long runs stay readable
  const k = Math.max(1, Math.round(points.length / 40));
  return [k, points.map((p, i) => {
    const out = {...p};
    for (const key of keys) {
      const values = points.slice(Math.max(0, i - k + 1), i + 1).map((q) => q[key])
        .filter((v) => v !== null && v !== undefined);
      out[key] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
    }
    return out;
  })];
}

function drawClassifiers(all) {
  const names = Object.keys(all);
  if (!names.length) {
    replace("classifiers", el("p", {class: "muted"}, "no classifier in this pipeline " +
      "(set [classifier] labels, or run with -p classify)"));
    return;
  }
  replace("classifiers", ...names.map((name) => {
    const m = all[name].metrics, last = m[m.length - 1] || {};
    const [k, points] = smoothed(m, ["accuracy", "macro_f1", "earlier_accuracy"]);
    return el("div", {class: "chart classifier", "data-name": name},
      el("h3", {}, `${name}: ${all[name].classes.length} classes; last window accuracy ` +
        `${last.accuracy ?? "–"}, macro-F1 ${last.macro_f1 ?? "–"}` +
        (k > 1 ? ` (lines: mean of ${k} windows)` : "")),
      lineChart(points, [["accuracy", "#2f5fd0", "accuracy"], ["macro_f1", "#d08a2f", "macro-F1"],
        ["earlier_accuracy", "#1a7f37", "earlier windows"]]));
  }));
}

function drawDrift(drift) {
  // the top movers first, then every other followed term
  const select = document.getElementById("drift-term");
  const movers = drift.movers.map((m) => m.term);
  const terms = [...movers, ...Object.keys(drift.terms).filter((t) => !movers.includes(t)).sort()];
  const chosen = select.value || terms[0];
  if (select.options.length !== terms.length) {
    select.replaceChildren(...terms.map((t) => el("option", {value: t}, t)));
    if (chosen) select.value = chosen;
  }
  const rows = drift.terms[select.value] || [];
  const table = el("table", {},
    el("tr", {}, el("th", {}, "window"), ...Array.from({length: 10}, (_, i) => el("th", {}, i + 1))),
    ...rows.map((r) => el("tr", {}, el("td", {}, day(r.start).slice(0, 10)),
      ...r.neighbours.map(([word, sim]) => el("td", {title: `similarity ${sim}`}, word)))));
  replace("drift", rows.length ? table : el("p", {class: "muted"}, "no snapshots yet"));
  replace("movers", ...drift.movers.map((m) => el("li", {}, el("b", {}, m.term),
    ` ${Math.round(m.change * 100)}% new neighbours: ${m.from.join(", ")} → ${m.to.join(", ")}`)));
}

function drawThroughput(windows) {
  const rows = windows.recent;
  if (!rows.length) { replace("throughput", el("p", {class: "muted"}, "no window closed yet")); return; }
  const w = 520, h = 120, most = Math.max(...rows.map((r) => r.tweets), 1);
  const box = svg("svg", {viewBox: `0 0 ${w} ${h + 16}`});
  const bar = w / rows.length;
  rows.forEach((r, i) => {
    const rect = svg("rect", {x: i * bar, y: h - h * r.tweets / most,
      width: Math.max(1, bar - 1), height: h * r.tweets / most, fill: "#9fb3d9"});
    rect.append(svg("title", {}, `${day(r.start)}: ${r.tweets} tweets`));
    box.append(rect);
  });
  box.append(svg("text", {x: 2, y: h + 12}, day(rows[0].start).slice(0, 10)));
  box.append(svg("text", {x: w - 2, y: h + 12, "text-anchor": "end"},
    `${day(rows[rows.length - 1].start).slice(0, 10)} · ${windows.count} windows`));
  replace("throughput", box);
}

function drawAlarmsAndRejects(alarms, rejects) {
  document.getElementById("alarm-count").textContent = alarms.count;
  replace("alarms", ...alarms.recent.map((a) => el("li", {}, el("b", {}, a.statistic),
    ` ${day(a.time)} (${a.detector}) ${a.terms ? a.terms.slice(0, 6).join(", ") : a.value}`)));
  document.getElementById("reject-count").textContent = rejects.count;
  replace("reject-reasons", ...Object.entries(rejects.reasons).map(([r, n]) =>
    el("li", {}, `${r}: ${n}`)));
  replace("rejects", ...rejects.recent.map((r) => el("li", {},
    `${r.source}:${r.line} — ${r.reason}`)));
}

function editing() {
  const active = document.activeElement;
  return active && active.classList && active.classList.contains("label-input") && active.value;
}

async function refresh() {
  let state;
  try {
    const response = await fetch("/api/state", {cache: "no-store"});
    state = await response.json();
  } catch (error) {
    const run = document.getElementById("run-state");
    run.textContent = "dashboard offline";
    run.className = "pill offline";
    return;
  }
  labelNames = state.label_names;
  classes = Object.fromEntries(Object.entries(state.classifiers).map(([k, v]) => [k, v.classes]));
  document.getElementById("token-box").hidden = !state.token_required;
  drawProgress(state);
  const last = state.windows.recent[state.windows.recent.length - 1];
  if (changed("keywords", [state.keywords, last])) drawKeywords(state.keywords, last && last.end);
  const labels = state.labels || {};
  if (!editing() && changed("queue", [state.selection, labels, classes]))
    drawQueue(state.selection, labels);
  if (changed("events", state.events)) drawEvents(state.events);
  if (changed("classifiers", state.classifiers)) drawClassifiers(state.classifiers);
  if (changed("drift", state.drift)) drawDrift(state.drift);
  if (changed("windows", state.windows)) drawThroughput(state.windows);
  if (changed("alarms", [state.alarms, state.rejects])) drawAlarmsAndRejects(state.alarms, state.rejects);
}

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("token");
  input.value = token();
  input.addEventListener("change", () => sessionStorage.setItem("textcl-token", input.value));
  document.getElementById("drift-term").addEventListener("change", () => {
    delete drawn.drift; refresh();
  });
  refresh();
  setInterval(refresh, POLL_MS);
});
