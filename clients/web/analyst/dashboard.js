// Analyst dashboard: asks the aggregates (or tallies) API from the form's own questions, shows
// the answer as a table with counts and percentages and as a chart (grouped bars, or lines
// over weeks and months), in the form's language, and downloads the same table as CSV.
// Suppressed cells are drawn as suppressed, never as zero: a zero would be a false statement
// about the data. Percentages are computed from the perturbed counts and their perturbed
// totals, which need not add up exactly.

const $ = (id) => document.getElementById(id);
const TOTAL = "*";
const SVG = "http://www.w3.org/2000/svg";
const PERIODS = ["week", "month"];
let forms = [];
let lastPath = null;
let lastTable = null;
let lastForm = null;

function headers(extra = {}) {
  return { Authorization: `Bearer ${$("token").value.trim()}`, ...extra };
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

async function getJson(path) {
  const response = await fetch(path, { headers: headers() });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `The server answered ${response.status}`);
  return body;
}

function option(value, label = value) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = label;
  return el;
}

function fill(select, entries, keepFirst = false) {
  const first = keepFirst ? select.options[0] : null;
  const kept = select.value;
  select.replaceChildren(...(first ? [first] : []), ...entries.map(([v, l]) => option(v, l)));
  if ([...select.options].some((o) => o.value === kept)) select.value = kept;
}

// --- labels in the form's languages ---------------------------------------------------------

const optionId = (o) => (typeof o === "string" ? o : o.id);

function translated(thing, fallback, lang) {
  return (lang && thing && thing.translations && thing.translations[lang]) || fallback;
}

function formLanguages(form) {
  const found = new Set();
  for (const q of form.questions) {
    for (const lang of Object.keys(q.translations || {})) found.add(lang);
    for (const o of q.options || []) for (const lang of Object.keys(o.translations || {})) found.add(lang);
  }
  return [...found].sort();
}

const language = () => $("language").value;

function dimensionLabel(form, dimension) {
  const fixed = { area: "Area", week: "Week", month: "Month", site: "Site" };
  if (fixed[dimension]) return fixed[dimension];
  const question = form && form.questions.find((q) => q.id === dimension);
  return question ? translated(question, question.label, language()) : dimension;
}

function valueLabel(form, dimension, value) {
  if (value === TOTAL) return "Total";
  const question = form && form.questions.find((q) => q.id === dimension);
  const choice = question && (question.options || []).find((o) => optionId(o) === value);
  if (!choice || typeof choice === "string") return value;
  return translated(choice, choice.label || value, language());
}

function metricLabel(form, metric) {
  if (!metric.startsWith("mean:")) return "Number of respondents";
  const id = metric.slice(5);
  const score = (form.scores || []).find((s) => s.id === id);
  if (score) return `Mean ${score.label}`;
  const question = form.questions.find((q) => q.id === id);
  return `Mean: ${question ? translated(question, question.label, language()) : id}`;
}

// --- datasets and forms ---------------------------------------------------------------------

async function loadDatasets() {
  try {
    const body = await getJson("/v1/datasets");
    const datasets = Array.isArray(body) ? body : body.datasets || [];
    fill($("dataset"), datasets.map((d) => [d.id, `${d.name} (${d.mode}, k=${d.k})`]));
    sessionStorage.setItem("analystToken", $("token").value.trim());
    setStatus(`${datasets.length} dataset(s).`);
    await loadForms();
  } catch (err) {
    setStatus(err.message, true);
  }
}

async function loadForms() {
  if (!$("dataset").value) return;
  const body = await getJson(`/v1/datasets/${$("dataset").value}/forms`);
  forms = Array.isArray(body) ? body : body.forms || [];
  fill($("form"), forms.map((f) => [f.id, `${f.title} (v${f.version})`]));
  showFormChoices();
}

function currentForm() {
  return forms.find((f) => f.id === $("form").value);
}

function showFormChoices() {
  const form = currentForm();
  if (!form) return;
  fill($("language"), formLanguages(form).map((l) => [l, l]), true);
  const countable = form.questions.filter((q) => ["single", "multi", "likert", "integer"].includes(q.type));
  const dims = [["area", "Area"], ["week", "Week"], ["month", "Month"], ...countable.map((q) => [q.id, dimensionLabel(form, q.id)])];
  fill($("by1"), dims);
  fill($("by2"), dims, true);
  const metrics = [["count", metricLabel(form, "count")]];
  for (const s of form.scores || []) metrics.push([`mean:${s.id}`, metricLabel(form, `mean:${s.id}`)]);
  for (const q of form.questions.filter((q) => q.type === "likert")) metrics.push([`mean:${q.id}`, metricLabel(form, `mean:${q.id}`)]);
  fill($("metric"), metrics);
  const filterable = form.questions.filter((q) => ["single", "multi", "likert"].includes(q.type));
  fill($("where-q"), [["area", "Area"], ...filterable.map((q) => [q.id, dimensionLabel(form, q.id)])], true);
  showFilterValues();
}

function showFilterValues() {
  const form = currentForm();
  const id = $("where-q").value;
  let values = [];
  if (id === "area") values = form.areas.map((a) => [a, a]);
  const question = form && form.questions.find((q) => q.id === id);
  if (question && question.options) values = question.options.map((o) => [optionId(o), valueLabel(form, id, optionId(o))]);
  if (question && question.type === "likert") values = Array.from({ length: question.scale }, (_, i) => [String(i + 1), String(i + 1)]);
  fill($("where-v"), values);
}

function answersPath() {
  const params = new URLSearchParams({ form: $("form").value });
  params.set("by", [$("by1").value, $("by2").value].filter(Boolean).join(","));
  params.set("metric", $("metric").value);
  if ($("where-q").value && $("where-v").value) params.append("where", `${$("where-q").value}=${$("where-v").value}`);
  if ($("from").value) params.set("from", $("from").value);
  if ($("to").value) params.set("to", $("to").value);
  if ($("approved-only").checked) params.set("review", "approved");
  return `/v1/datasets/${$("dataset").value}/aggregates?${params}`;
}

function talliesPath() {
  const by = [$("tally-by1").value, $("tally-by2").value].filter((v, i, all) => v && all.indexOf(v) === i);
  const params = new URLSearchParams({ by: by.join(","), metric: $("tally-metric").value });
  return `/v1/datasets/${$("dataset").value}/tallies?${params}`;
}

async function ask(path, form, caption) {
  lastPath = path;
  setStatus("Asking the server…");
  try {
    const table = await getJson(path);
    lastTable = table;
    lastForm = form;
    $("caption").textContent = caption;
    render();
    $("csv").disabled = false;
    setStatus(`${table.cells.length} cell(s), ${table.suppressed} suppressed (k = ${table.k}).`);
  } catch (err) {
    $("result").hidden = true;
    setStatus(err.message, true);
  }
}

function runAnswers(event) {
  event.preventDefault();
  const form = currentForm();
  const by = [$("by1").value, $("by2").value].filter(Boolean).map((d) => dimensionLabel(form, d));
  ask(answersPath(), form, `${metricLabel(form, $("metric").value)} by ${by.join(" and ")}`);
}

function runTallies(event) {
  event.preventDefault();
  const by = [$("tally-by1").value, $("tally-by2").value].filter(Boolean).map((d) => dimensionLabel(null, d));
  ask(talliesPath(), null, `${$("tally-metric").selectedOptions[0].textContent} by ${by.join(" and ")}`);
}

// --- numbers --------------------------------------------------------------------------------

const keyOf = (key, by) => by.map((d) => key[d]).join("\u0000");

// Cells by key, the values of each dimension (totals last), and each cell's share of its row
// total and of its column total (for one dimension, of the whole).
function shape(table) {
  const byKey = new Map(table.cells.map((c) => [keyOf(c.key, table.by), c]));
  const values = table.by.map((d) => [...new Set(table.cells.map((c) => c.key[d]))]);
  const n = (key) => {
    const cell = byKey.get(keyOf(key, table.by));
    return cell && !cell.suppressed ? cell.n : null;
  };
  const share = (cell, free) => {
    if (cell.suppressed) return null;
    const whole = { ...cell.key };
    for (const d of free) whole[d] = TOTAL;
    const total = n(whole);
    return total ? (100 * cell.n) / total : null;
  };
  const row = (cell) => share(cell, table.by.length === 2 ? [table.by[1]] : table.by);
  const column = (cell) => (table.by.length === 2 ? share(cell, [table.by[0]]) : null);
  return { byKey, values, row, column };
}

const percent = (value) => (value === null ? "" : `${value.toFixed(1)} %`);

// --- table ----------------------------------------------------------------------------------

function render() {
  const table = lastTable;
  $("result").hidden = false;
  const counting = table.metric === "count" || !table.metric.startsWith("mean:");
  const two = table.by.length === 2;
  for (const view of ["row", "column"]) {
    $("view").querySelector(`option[value="${view}"]`).disabled = !counting || (view === "column" && !two);
  }
  if ($("view").selectedOptions[0].disabled) $("view").value = "value";
  const { row, column } = shape(table);
  const extra = counting ? (two ? ["row %", "column %"] : ["% of total"]) : [];
  const head = document.createElement("tr");
  for (const name of [...table.by.map((d) => dimensionLabel(lastForm, d)), "respondents", counting ? "count" : "mean", ...extra]) {
    const th = document.createElement("th");
    th.textContent = name;
    head.append(th);
  }
  $("table").tHead.replaceChildren(head);
  const rows = table.cells.map((cell) => {
    const tr = document.createElement("tr");
    if (table.by.some((d) => cell.key[d] === TOTAL)) tr.className = "total";
    for (const d of table.by) {
      const td = document.createElement("td");
      td.textContent = valueLabel(lastForm, d, cell.key[d]);
      tr.append(td);
    }
    if (cell.suppressed) {
      const td = document.createElement("td");
      td.colSpan = 2 + extra.length;
      td.className = "suppressed";
      td.textContent = "suppressed (small group)";
      tr.append(td);
    } else {
      const shares = counting ? (two ? [row(cell), column(cell)] : [row(cell)]) : [];
      for (const value of [cell.n, cell.value, ...shares.map(percent)]) {
        const td = document.createElement("td");
        td.className = "num";
        td.textContent = value;
        tr.append(td);
      }
    }
    return tr;
  });
  $("table").tBodies[0].replaceChildren(...rows);
  drawChart();
}

// --- chart ----------------------------------------------------------------------------------

function svg(name, attributes = {}, text = null) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  if (text !== null) el.textContent = text;
  return el;
}

// Round tick steps (1, 2, 5 x 10^n) giving about five ticks up to at least `max`.
function ticks(max) {
  const raw = Math.max(max, 1) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const top = Math.ceil(max / step) * step || step;
  return Array.from({ length: Math.round(top / step) + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

const clip = (text, length = 22) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

function drawChart() {
  const table = lastTable;
  const view = $("view").value;
  const { byKey, values, row, column } = shape(table);
  const groupDim = table.by[0];
  const seriesDim = table.by[1];
  const groups = values[0].filter((v) => v !== TOTAL);
  const series = seriesDim ? values[1].filter((v) => v !== TOTAL) : [null];
  const measure = (cell) => (view === "row" ? row(cell) : view === "column" ? column(cell) : cell.value);
  const cellAt = (group, s) => {
    const key = { [groupDim]: group };
    if (seriesDim) key[seriesDim] = s;
    return byKey.get(keyOf(key, table.by));
  };
  const shown = groups.flatMap((g) => series.map((s) => cellAt(g, s))).filter((c) => c && !c.suppressed);
  const scale = ticks(Math.max(1, ...shown.map(measure).filter((v) => v !== null)));
  const top = scale[scale.length - 1];
  const lines = PERIODS.includes(groupDim);
  const barWidth = 16, groupGap = 14, left = 56, right = 16, head = 16, height = 240;
  const groupWidth = lines ? 28 : series.length * barWidth + groupGap;
  const longest = Math.max(...groups.map((g) => clip(valueLabel(lastForm, groupDim, g)).length));
  const bottom = 24 + Math.min(22, longest) * 5;
  const width = Math.max(480, left + right + groups.length * groupWidth);
  const y = (v) => head + height - (v / top) * height;
  const chart = svg("svg", { width, height: head + height + bottom, role: "img" });
  chart.innerHTML = '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9aa3af" stroke-width="3"/></pattern></defs>';
  for (const tick of scale) {
    chart.append(svg("line", { class: "grid", x1: left, x2: width - right, y1: y(tick), y2: y(tick) }));
    const label = view === "value" ? String(tick) : `${tick} %`;
    chart.append(svg("text", { class: "tick-label", x: left - 6, y: y(tick) + 4, "text-anchor": "end" }, label));
  }
  chart.append(svg("line", { class: "axis", x1: left, x2: left, y1: head, y2: head + height }));
  chart.append(svg("line", { class: "axis", x1: left, x2: width - right, y1: head + height, y2: head + height }));
  const tooltip = (group, s, cell) => {
    const names = [valueLabel(lastForm, groupDim, group), ...(seriesDim ? [valueLabel(lastForm, seriesDim, s)] : [])];
    const value = !cell || cell.suppressed ? "suppressed" : view === "value" ? String(cell.value) : percent(measure(cell));
    return `${names.join(" / ")}: ${value}`;
  };
  const points = series.map(() => []);
  groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + (lines ? groupWidth / 2 : groupGap / 2);
    series.forEach((s, i) => {
      const cell = cellAt(group, s);
      const value = cell && !cell.suppressed ? measure(cell) : null;
      if (lines) {
        points[i].push(value === null ? null : [x0, y(value)]);
        if (value === null) {
          const mark = svg("rect", { class: "bar-suppressed", x: x0 - 4, y: head + height - 8, width: 8, height: 8 });
          mark.append(svg("title", {}, tooltip(group, s, cell)));
          chart.append(mark);
        }
        return;
      }
      const x = x0 + i * barWidth;
      const suppressed = value === null;
      const h = suppressed ? (table.k / top) * height : Math.max(1, (value / top) * height);
      const bar = svg("rect", { class: suppressed ? "bar-suppressed" : `bar s${i % 10}`, x, y: head + height - Math.min(h, height), width: barWidth - 2, height: Math.min(h, height) });
      bar.append(svg("title", {}, tooltip(group, s, cell)));
      chart.append(bar);
    });
    const label = valueLabel(lastForm, groupDim, group);
    const text = svg("text", { class: "axis-label", transform: `translate(${x0 + (lines ? 0 : (series.length * barWidth) / 2)},${head + height + 12}) rotate(-35)`, "text-anchor": "end" }, clip(label));
    text.append(svg("title", {}, label));
    chart.append(text);
  });
  if (lines) {
    points.forEach((line, i) => {
      // A suppressed week breaks the line rather than pretending to know it.
      const d = line.map((p, j) => (p ? `${j > 0 && line[j - 1] ? "L" : "M"}${p[0]},${p[1]}` : "")).join(" ");
      const path = svg("path", { class: `line s${i % 10}`, d });
      path.append(svg("title", {}, seriesDim ? valueLabel(lastForm, seriesDim, series[i]) : dimensionLabel(lastForm, groupDim)));
      chart.append(path);
      line.forEach((p) => p && chart.append(svg("circle", { class: `s${i % 10}`, cx: p[0], cy: p[1], r: 3 })));
    });
  }
  $("chart").replaceChildren(chart);
  drawLegend(series, seriesDim);
}

function drawLegend(series, seriesDim) {
  const entries = seriesDim ? series.map((s, i) => [`s${i % 10}`, valueLabel(lastForm, seriesDim, s)]) : [];
  entries.push(["bar-suppressed", `suppressed (fewer than k = ${lastTable.k})`]);
  $("legend").replaceChildren(...entries.map(([className, text]) => {
    const item = document.createElement("span");
    const swatch = svg("svg", { width: 14, height: 14 });
    swatch.append(svg("rect", { class: className, width: 14, height: 14 }));
    item.append(swatch, document.createTextNode(text));
    return item;
  }));
}

async function downloadCsv() {
  if (!lastPath) return;
  const response = await fetch(lastPath, { headers: headers({ Accept: "text/csv" }) });
  if (!response.ok) return setStatus(`CSV download failed (${response.status}).`, true);
  const url = URL.createObjectURL(await response.blob());
  const name = lastPath.includes("/tallies?") ? "tallies.csv" : "aggregates.csv";
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  URL.revokeObjectURL(url);
}

function showTab(tallies) {
  $("tab-answers").setAttribute("aria-selected", String(!tallies));
  $("tab-tallies").setAttribute("aria-selected", String(tallies));
  $("query").hidden = tallies;
  $("tallies-query").hidden = !tallies;
  $("result").hidden = true;
}

$("token").value = sessionStorage.getItem("analystToken") || "";
$("connect").addEventListener("click", loadDatasets);
$("dataset").addEventListener("change", loadForms);
$("form").addEventListener("change", showFormChoices);
$("language").addEventListener("change", () => {
  const kept = $("language").value;
  showFormChoices();
  $("language").value = kept;
  if (lastTable) render();
});
$("where-q").addEventListener("change", showFilterValues);
$("query").addEventListener("submit", runAnswers);
$("tallies-query").addEventListener("submit", runTallies);
$("view").addEventListener("change", () => lastTable && drawChart());
$("csv").addEventListener("click", downloadCsv);
$("tab-answers").addEventListener("click", () => showTab(false));
$("tab-tallies").addEventListener("click", () => showTab(true));
