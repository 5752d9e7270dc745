/* The review queue: its filters, its pages (GET /v1/reviews) and a row per record. */

import { api, errorText, handleAuthLoss } from "./api.js";
import { gradeBadge, seriesNode } from "./badges.js";
import { stackedTimeEl } from "./dates.js";
import { $, clear, el, setMessage, show } from "./dom.js";
import { humanise, pct } from "./format.js";
import { codesFor, reasonChip } from "./review_codes.js";
import { state } from "./state.js";

const PAGE_SIZE = 50;
const KIND_NOUNS = { score: ["score", "scores"], forecast: ["forecast", "forecasts"] };
export const KINDS = Object.keys(KIND_NOUNS);

// each kind's columns, and the cells of a row in the same order
const COLUMNS = {
  score: [
    ["Scored", null, (item) => el("td", {}, stackedTimeEl(item.created_at))],
    ["Grade", null, (item) => el("td", {}, gradeBadge(item.grade))],
    ["Score", "num", (item) => el("td", { className: "num", text: pct(item.score) })],
    ["Review reasons", null, reasonsCell],
    ["Model", null, modelCell],
    ["Decision", null, decisionCell],
  ],
  forecast: [
    ["Forecast made", null, (item) => el("td", {}, stackedTimeEl(item.created_at))],
    ["Series", null, (item) => el("td", { className: "series-cell" }, seriesNode(item.series))],
    ["Review reasons", null, reasonsCell],
    ["Model", null, modelCell],
    ["Decision", null, decisionCell],
  ],
};

export async function loadQueue({ append = false } = {}) {
  const token = ++state.queueToken;
  const params = new URLSearchParams({ status: state.status, limit: String(PAGE_SIZE) });
  if (state.kind !== "score") params.set("kind", state.kind);
  if (state.reason) params.set("reason", state.reason);
  if (append && state.nextCursor) params.set("cursor", state.nextCursor);
  setMessage($("queue-error"), "");
  $("queue-status").textContent = "Loading…";
  $("queue").setAttribute("aria-busy", "true");
  $("load-more").disabled = true;
  try {
    const page = await api(`/v1/reviews?${params}`);
    if (token !== state.queueToken) return; // a newer filter won
    state.items = append ? state.items.concat(page.items) : page.items;
    state.nextCursor = page.next_cursor;
    renderQueue();
  } catch (err) {
    if (token !== state.queueToken || handleAuthLoss(err)) return;
    setMessage($("queue-error"), errorText(err));
    $("queue-status").textContent = "";
  } finally {
    if (token === state.queueToken) {
      $("queue").removeAttribute("aria-busy");
      $("load-more").disabled = false;
    }
  }
}

function renderQueue() {
  const body = $("queue-body");
  clear(body);
  if (state.items.length === 0) {
    const empty = state.status === "pending" ? "Nothing is waiting for review." : "No decisions yet.";
    const colspan = COLUMNS[state.kind].length;
    body.append(el("tr", { className: "empty-row" }, el("td", { colspan, text: empty })));
  }
  for (const item of state.items) body.append(queueRow(item));
  const more = state.nextCursor ? " (more available)" : "";
  const [one, many] = KIND_NOUNS[state.kind];
  const noun = state.items.length === 1 ? one : many;
  $("queue-status").textContent = `${state.items.length} ${noun} ${state.status}${more}`;
  show($("load-more"), Boolean(state.nextCursor));
}

/** The queue emptied and set up for state.kind: its columns and its reason codes. */
export function resetQueue() {
  const row = el(
    "tr",
    {},
    COLUMNS[state.kind].map(([label, className]) => el("th", { scope: "col", className, text: label })),
  );
  $("queue-head").replaceChildren(row);
  $("queue-caption").textContent =
    `${humanise(KIND_NOUNS[state.kind][1])} flagged for human review, newest first. Select a row to open it.`;
  const select = $("reason-filter");
  const options = [el("option", { value: "", text: "All reasons" })];
  for (const entry of codesFor(state.kind)) options.push(el("option", { value: entry.code, text: entry.label }));
  select.replaceChildren(...options);
  select.value = state.reason;
  clear($("queue-body"));
}

function reasonsCell(item) {
  const reasons = el("ul", { className: "chips chips-compact" });
  for (const code of item.review_reasons || []) reasons.append(reasonChip(code));
  return el("td", {}, reasons);
}

function modelCell(item) {
  const model = item.model || {};
  return el("td", { className: "model", title: `${model.name || ""} version ${model.version || ""}`, text: `v${model.version || "?"}` });
}

function decisionSummary(decision) {
  if (!decision) return "Pending";
  if (decision.decision === "override") return decision.grade ? `Override → ${decision.grade}` : "Overridden";
  return "Confirmed";
}

function decisionCell(item) {
  const decision = item.latest_decision;
  const cell = el("td", { className: decision ? `decided decided-${decision.decision}` : "pending" });
  cell.append(el("span", { text: decisionSummary(decision) }));
  if (decision) cell.append(el("span", { className: "by", text: decision.decided_by }));
  return cell;
}

function queueRow(item) {
  const kind = item.kind || "score";
  const row = el(
    "tr",
    { tabindex: 0, className: "queue-row", dataset: { scoreId: item.score_id, kind, testid: "queue-row" } },
    (COLUMNS[kind] || COLUMNS.score).map(([, , cell]) => cell(item)),
  );
  if (item.score_id === state.selectedId) row.setAttribute("aria-current", "true");
  return row;
}

/** Mark the open record's row. */
export function markSelected() {
  for (const row of $("queue-body").querySelectorAll("tr[data-score-id]")) {
    if (row.dataset.scoreId === state.selectedId) row.setAttribute("aria-current", "true");
    else row.removeAttribute("aria-current");
  }
}

/** The queue row an event happened in, or null. */
export function rowFromEvent(event) {
  const row = event.target.closest("tr[data-score-id]");
  return row && $("queue-body").contains(row) ? row : null;
}
