// Analyst dashboard: builds an aggregates query from the form's own questions, shows the
// answer as a table and a bar chart, and downloads the same table as CSV. Suppressed cells are
// drawn as suppressed, never as zero: a zero would be a false statement about the data.

const $ = (id) => document.getElementById(id);
let forms = [];
let lastQuery = null;

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
  select.replaceChildren(...(first ? [first] : []), ...entries.map(([v, l]) => option(v, l)));
}

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

const optionId = (o) => (typeof o === "string" ? o : o.id);
const optionLabel = (o) => (typeof o === "string" ? o : o.label);

function showFormChoices() {
  const form = currentForm();
  if (!form) return;
  const countable = form.questions.filter((q) => ["single", "multi", "likert", "integer"].includes(q.type));
  const dims = [["area", "Area"], ["week", "Week"], ["month", "Month"], ...countable.map((q) => [q.id, q.label])];
  fill($("by1"), dims);
  fill($("by2"), dims, true);
  const metrics = [["count", "Number of respondents"]];
  for (const s of form.scores || []) metrics.push([`mean:${s.id}`, `Mean ${s.label}`]);
  for (const q of form.questions.filter((q) => q.type === "likert")) metrics.push([`mean:${q.id}`, `Mean: ${q.label}`]);
  fill($("metric"), metrics);
  const filterable = form.questions.filter((q) => ["single", "multi", "likert"].includes(q.type));
  fill($("where-q"), [["area", "Area"], ...filterable.map((q) => [q.id, q.label])], true);
  showFilterValues();
}

function showFilterValues() {
  const form = currentForm();
  const id = $("where-q").value;
  let values = [];
  if (id === "area") values = form.areas.map((a) => [a, a]);
  const question = form && form.questions.find((q) => q.id === id);
  if (question && question.options) values = question.options.map((o) => [optionId(o), optionLabel(o)]);
  if (question && question.type === "likert") values = Array.from({ length: question.scale }, (_, i) => [String(i + 1), String(i + 1)]);
  fill($("where-v"), values);
}

function queryString() {
  const params = new URLSearchParams({ form: $("form").value });
  params.set("by", [$("by1").value, $("by2").value].filter(Boolean).join(","));
  params.set("metric", $("metric").value);
  if ($("where-q").value && $("where-v").value) params.append("where", `${$("where-q").value}=${$("where-v").value}`);
  if ($("from").value) params.set("from", $("from").value);
  if ($("to").value) params.set("to", $("to").value);
  return params.toString();
}

async function runQuery(event) {
  event.preventDefault();
  lastQuery = `/v1/datasets/${$("dataset").value}/aggregates?${queryString()}`;
  setStatus("Asking the server…");
  try {
    const table = await getJson(lastQuery);
    render(table);
    $("csv").disabled = false;
    setStatus(`${table.cells.length} cell(s), ${table.suppressed} suppressed (k = ${table.k}).`);
  } catch (err) {
    $("result").hidden = true;
    setStatus(err.message, true);
  }
}

function keyText(cell, by) {
  return by.map((d) => cell.key[d]).join(" / ");
}

function render(table) {
  $("result").hidden = false;
  $("caption").textContent = `${$("metric").selectedOptions[0].textContent} by ${table.by.join(" and ")}`;
  const head = document.createElement("tr");
  for (const name of [...table.by, "respondents", table.metric === "count" ? "count" : "mean"]) {
    const th = document.createElement("th");
    th.textContent = name;
    head.append(th);
  }
  $("table").tHead.replaceChildren(head);
  const rows = table.cells.map((cell) => {
    const tr = document.createElement("tr");
    for (const d of table.by) {
      const td = document.createElement("td");
      td.textContent = cell.key[d];
      tr.append(td);
    }
    if (cell.suppressed) {
      const td = document.createElement("td");
      td.colSpan = 2;
      td.className = "suppressed";
      td.textContent = "suppressed (small group)";
      tr.append(td);
    } else {
      for (const value of [cell.n, cell.value]) {
        const td = document.createElement("td");
        td.className = "num";
        td.textContent = value;
        tr.append(td);
      }
    }
    return tr;
  });
  $("table").tBodies[0].replaceChildren(...rows);
  drawChart(table);
}

function drawChart(table) {
  const ns = "http://www.w3.org/2000/svg";
  const barWidth = 28, gap = 10, height = 220, top = 20, bottom = 90;
  const width = Math.max(320, table.cells.length * (barWidth + gap) + 40);
  const max = Math.max(1, ...table.cells.filter((c) => !c.suppressed).map((c) => c.value));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height + top + bottom);
  svg.innerHTML = '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9aa3af" stroke-width="3"/></pattern></defs>';
  table.cells.forEach((cell, i) => {
    const x = 30 + i * (barWidth + gap);
    const bar = document.createElementNS(ns, "rect");
    const h = cell.suppressed ? height : (cell.value / max) * height;
    bar.setAttribute("x", x);
    bar.setAttribute("y", top + height - h);
    bar.setAttribute("width", barWidth);
    bar.setAttribute("height", h);
    bar.setAttribute("class", cell.suppressed ? "bar-suppressed" : "bar");
    const title = document.createElementNS(ns, "title");
    title.textContent = `${keyText(cell, table.by)}: ${cell.suppressed ? "suppressed" : cell.value}`;
    bar.append(title);
    svg.append(bar);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("class", "axis-label");
    label.setAttribute("transform", `translate(${x + barWidth / 2},${top + height + 6}) rotate(60)`);
    label.textContent = keyText(cell, table.by) + (cell.suppressed ? " (suppressed)" : "");
    svg.append(label);
  });
  $("chart").replaceChildren(svg);
}

async function downloadCsv() {
  if (!lastQuery) return;
  const response = await fetch(lastQuery, { headers: headers({ Accept: "text/csv" }) });
  if (!response.ok) return setStatus(`CSV download failed (${response.status}).`, true);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: "aggregates.csv" });
  link.click();
  URL.revokeObjectURL(url);
}

$("token").value = sessionStorage.getItem("analystToken") || "";
$("connect").addEventListener("click", loadDatasets);
$("dataset").addEventListener("change", loadForms);
$("form").addEventListener("change", showFormChoices);
$("where-q").addEventListener("change", showFilterValues);
$("query").addEventListener("submit", runQuery);
$("csv").addEventListener("click", downloadCsv);
