// Admin page: datasets (create, retention with a dry-run count, purge), forms (publish, list
// versions), enrollment codes with their QR code, devices and tokens (revoke), the quarantine
// (counts by refusal, delete) and the audit log, all through the API with the admin's token.
// It never asks for or shows what a response says: the server answers none of that here.

const $ = (id) => document.getElementById(id);
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
let datasets = [];
let current = null;

// --- talking to the server ------------------------------------------------------------------

// What to tell the admin for the server's error codes; its own message follows.
const EXPLAINED = {
  unauthorized: "The token was not accepted: paste an admin token.",
  expired: "This token has expired: ask for a new admin token.",
  revoked: "This token was revoked.",
  wiped: "This token belonged to a purged dataset.",
  forbidden: "This token may not do that.",
  not_found: "Not found: it may have been deleted meanwhile; reload.",
  confirm_name: "Type the dataset's exact name to purge it.",
  version_exists: "That form version is published already: raise the form's version and upload it again.",
  unsupported_media_type: "The server does not accept this kind of file here.",
  too_large: "The file is larger than the server accepts.",
  bad_json: "The file is not valid JSON, or not a form.",
  identifying_question: "The form asks for something that identifies people; remove that question.",
  bad_query: "The page asked something the server does not understand; reload it.",
  invalid: "The server refused the values given.",
  internal: "The server failed; try again, and tell its operator if it goes on.",
  unavailable: "The server is busy; try again in a moment.",
};

class ServerError extends Error {
  constructor(status, body) {
    const code = body.error || `http_${status}`;
    const explained = EXPLAINED[code] || `The server answered ${status}.`;
    super(body.message ? `${explained} (${code}: ${body.message})` : `${explained} (${code})`);
    this.code = code;
  }
}

async function api(method, path, { json, body, contentType } = {}) {
  const headers = { Authorization: `Bearer ${$("token").value.trim()}` };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  const response = await fetch(path, { method, headers, body });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new ServerError(response.status, answer);
  return answer;
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

// Runs `action`, showing its error (if any) in the status line.
async function guarded(action) {
  try {
    await action();
  } catch (err) {
    setStatus(err.message, true);
  }
}

// --- small DOM helpers ------------------------------------------------------------------------

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function button(label, onClick, className = "small") {
  const el = document.createElement("button");
  el.type = "button";
  el.textContent = label;
  el.className = className;
  el.addEventListener("click", () => guarded(onClick));
  return el;
}

function row(cells, className) {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const c of cells) {
    if (c instanceof HTMLElement && c.tagName === "TD") tr.append(c);
    else if (c instanceof HTMLElement) {
      const td = document.createElement("td");
      td.append(c);
      tr.append(td);
    } else tr.append(cell(c));
  }
  return tr;
}

function fillTable(id, rows, empty) {
  const body = $(id).tBodies[0];
  const columns = $(id).tHead.rows[0].cells.length;
  if (rows.length === 0) {
    const td = cell(empty);
    td.colSpan = columns;
    body.replaceChildren(row([td]));
  } else body.replaceChildren(...rows);
}

const retentionText = (days) => (days ? `${days} days` : "kept");
const datasetName = (id) => (datasets.find((d) => d.id === id) || {}).name || (id ? "(purged)" : "all");

// --- datasets -----------------------------------------------------------------------------------

async function loadDatasets() {
  datasets = await api("GET", "/v1/datasets");
  sessionStorage.setItem("adminToken", $("token").value.trim());
  $("datasets-section").hidden = false;
  fillTable(
    "datasets",
    datasets.map((d) =>
      row(
        [d.name, d.mode, cell(String(d.k), "num"), retentionText(d.retention_days), button("Open", () => openDataset(d.id))],
        current && current.id === d.id ? "selected" : "",
      ),
    ),
    "No datasets yet.",
  );
  if (current) {
    current = datasets.find((d) => d.id === current.id) || null;
    if (!current) $("dataset-section").hidden = true;
  }
}

async function createDataset(event) {
  event.preventDefault();
  const request = { name: $("new-name").value.trim(), mode: $("new-mode").value };
  if ($("new-k").value !== "") request.k = Number($("new-k").value);
  if ($("new-retention").value !== "") request.retention_days = Number($("new-retention").value);
  const created = await api("POST", "/v1/datasets", { json: request });
  $("create-dataset").reset();
  await loadDatasets();
  await openDataset(created.id);
  setStatus(`Dataset "${created.name}" created.`);
}

async function openDataset(id) {
  current = datasets.find((d) => d.id === id);
  if (!current) return;
  await loadDatasets();
  $("dataset-section").hidden = false;
  $("dataset-title").textContent = `${current.name} (${current.mode}, k=${current.k})`;
  $("retention-days").value = current.retention_days ?? "";
  $("retention-due").textContent = "";
  $("purge-name").value = "";
  $("purge").disabled = true;
  $("enroll-result").hidden = true;
  const panel = document.querySelector('.tabs [aria-selected="true"]').dataset.panel;
  await showPanel(panel);
  setStatus(`Dataset "${current.name}".`);
}

// --- the dataset's panels -------------------------------------------------------------------------

const LOADERS = {
  "retention-panel": async () => {},
  "forms-panel": loadFormVersions,
  "enroll-panel": async () => {},
  "devices-panel": async () => {
    await loadDevices();
    await loadTokens();
  },
  "quarantine-panel": loadQuarantine,
  "audit-panel": loadAudit,
  "purge-panel": async () => {},
};

async function showPanel(panel) {
  for (const tab of document.querySelectorAll(".tabs button")) {
    const selected = tab.dataset.panel === panel;
    tab.setAttribute("aria-selected", String(selected));
    $(tab.dataset.panel).hidden = !selected;
  }
  await LOADERS[panel]();
}

function retentionDays() {
  const text = $("retention-days").value.trim();
  return text === "" ? null : Number(text);
}

async function countDue() {
  const days = retentionDays();
  if (days === null) {
    $("retention-due").textContent = "No retention: nothing is deleted by age.";
    return;
  }
  const status = await api("GET", `/v1/datasets/${current.id}/retention?days=${encodeURIComponent(days)}`);
  $("retention-due").textContent =
    `Keeping ${days} days would delete ${status.due} submitted response(s) now ` +
    `(those received before ${status.oldest_kept}).`;
}

async function saveRetention(event) {
  event.preventDefault();
  const days = retentionDays();
  const saved = await api("PUT", `/v1/datasets/${current.id}/retention`, { json: { days } });
  await loadDatasets();
  setStatus(
    saved.retention_days
      ? `Submitted responses of "${saved.name}" are now kept ${saved.retention_days} days; older ones go within the hour.`
      : `Submitted responses of "${saved.name}" are now kept until withdrawn.`,
  );
  if (days !== null) await countDue();
}

async function loadFormVersions() {
  const versions = await api("GET", `/v1/datasets/${current.id}/form-versions`);
  fillTable(
    "form-versions",
    versions.map((v) => row([v.form, cell(String(v.version), "num"), v.title, cell(String(v.questions), "num")])),
    "No form published yet.",
  );
}

async function uploadForm(event) {
  event.preventDefault();
  const file = $("form-file").files[0];
  if (!file) return;
  const isXlsx = file.name.toLowerCase().endsWith(".xlsx") || file.type === XLSX;
  const published = isXlsx
    ? await api("POST", `/v1/datasets/${current.id}/forms`, { body: await file.arrayBuffer(), contentType: XLSX })
    : await api("POST", `/v1/datasets/${current.id}/forms`, { body: await file.text(), contentType: "application/json" });
  $("form-upload").reset();
  await loadFormVersions();
  const named = published.id ? `form "${published.id}" version ${published.version}` : "the form";
  setStatus(`Published ${named}.`);
}

async function createCode(event) {
  event.preventDefault();
  const issued = await api("POST", `/v1/datasets/${current.id}/enrollments`, {
    json: {
      label: $("enroll-label").value.trim(),
      uses: Number($("enroll-uses").value),
      expires_in_hours: Number($("enroll-hours").value),
    },
  });
  $("enroll-code").textContent = issued.code;
  const until = new Date(issued.expires_at * 1000).toISOString().slice(0, 16).replace("T", " ");
  $("enroll-expiry").textContent = `for ${issued.uses} phone(s), until ${until} UTC`;
  // Parsed as SVG, not as HTML, so nothing in it can run.
  const svg = new DOMParser().parseFromString(issued.qr_svg, "image/svg+xml").documentElement;
  $("enroll-qr").replaceChildren(svg.tagName === "svg" ? document.importNode(svg, true) : "");
  $("enroll-result").hidden = false;
  setStatus("Enrollment code created: phones can scan it now. It is shown once.");
}

async function loadDevices() {
  const devices = await api("GET", `/v1/datasets/${current.id}/devices`);
  fillTable(
    "devices",
    devices.map((d) => {
      const actions = document.createElement("span");
      if (!d.revoked_on) {
        actions.append(
          button("Revoke", () => revokeDevice(d, false)),
          " ",
          button("Revoke and wipe", () => revokeDevice(d, true), "small danger"),
        );
      } else actions.textContent = d.wipe ? "wiped" : "";
      return row(
        [d.label, d.enrolled_on ?? "unknown", d.last_sync_on ?? "never", cell(String(d.documents), "num"), d.revoked_on ?? "", actions],
        d.revoked_on ? "revoked" : "",
      );
    }),
    "No phone enrolled yet.",
  );
}

async function revokeDevice(device, wipe) {
  await api("POST", `/v1/devices/${device.id}/revoke`, { json: { wipe } });
  await loadDevices();
  await loadTokens();
  setStatus(`Device "${device.label}" revoked${wipe ? "; it deletes its data at its next sync" : ""}.`);
}

async function loadTokens() {
  const tokens = await api("GET", "/v1/tokens");
  const shown = tokens.filter((t) => !t.dataset || t.dataset === current.id);
  fillTable(
    "tokens",
    shown.map((t) =>
      row(
        [
          t.name,
          t.role,
          datasetName(t.dataset),
          t.created_on,
          t.expires_on,
          t.last_used_on ?? "never",
          t.revoked_on ?? "",
          t.revoked_on ? "" : button("Revoke", () => revokeToken(t)),
        ],
        t.revoked_on ? "revoked" : "",
      ),
    ),
    "No tokens.",
  );
}

async function revokeToken(token) {
  await api("DELETE", `/v1/tokens/${token.id}`);
  await loadTokens();
  setStatus(`Token "${token.name}" revoked.`);
}

async function loadQuarantine() {
  const records = await api("GET", `/v1/datasets/${current.id}/quarantine`);
  const byCode = new Map();
  for (const r of records) {
    const seen = byCode.get(r.code) || { count: 0, first: r.received_on, last: r.received_on };
    seen.count += 1;
    if (r.received_on < seen.first) seen.first = r.received_on;
    if (r.received_on > seen.last) seen.last = r.received_on;
    byCode.set(r.code, seen);
  }
  fillTable(
    "quarantine",
    [...byCode].sort().map(([code, s]) => row([code, cell(String(s.count), "num"), s.first, s.last])),
    "Nothing refused.",
  );
  $("quarantine-purge").disabled = records.length === 0;
}

async function purgeQuarantine() {
  const answer = await api("DELETE", `/v1/datasets/${current.id}/quarantine`);
  await loadQuarantine();
  setStatus(`Deleted ${answer.purged} quarantine record(s).`);
}

async function loadAudit() {
  const scope = $("audit-all").checked ? "" : `dataset=${current.id}&`;
  const records = await api("GET", `/v1/audit?${scope}limit=200`);
  fillTable(
    "audit",
    records.map((r) => row([r.day, r.actor, r.role, r.action, datasetName(r.dataset)])),
    "Nothing logged.",
  );
}

async function purgeDataset(event) {
  event.preventDefault();
  const typed = $("purge-name").value;
  if (typed !== current.name) return;
  const answer = await api("DELETE", `/v1/datasets/${current.id}?confirm=${encodeURIComponent(typed)}`);
  const name = current.name;
  current = null;
  $("dataset-section").hidden = true;
  await loadDatasets();
  setStatus(`Dataset "${name}" purged with its ${answer.responses} response(s).`);
}

// --- wiring ---------------------------------------------------------------------------------------

$("connect").addEventListener("click", () =>
  guarded(async () => {
    await loadDatasets();
    setStatus(`${datasets.length} dataset(s).`);
  }),
);
$("token").addEventListener("keydown", (event) => {
  if (event.key === "Enter") $("connect").click();
});
$("create-dataset").addEventListener("submit", (event) => guarded(() => createDataset(event)));
for (const tab of document.querySelectorAll(".tabs button")) {
  tab.addEventListener("click", () => guarded(() => showPanel(tab.dataset.panel)));
}
$("retention-count").addEventListener("click", () => guarded(countDue));
$("retention-form").addEventListener("submit", (event) => guarded(() => saveRetention(event)));
$("form-upload").addEventListener("submit", (event) => guarded(() => uploadForm(event)));
$("enroll-form").addEventListener("submit", (event) => guarded(() => createCode(event)));
$("quarantine-purge").addEventListener("click", () => guarded(purgeQuarantine));
$("audit-all").addEventListener("change", () => guarded(loadAudit));
$("purge-name").addEventListener("input", () => {
  $("purge").disabled = !current || $("purge-name").value !== current.name;
});
$("purge-form").addEventListener("submit", (event) => guarded(() => purgeDataset(event)));

const saved = sessionStorage.getItem("adminToken");
if (saved) {
  $("token").value = saved;
  guarded(loadDatasets);
}
