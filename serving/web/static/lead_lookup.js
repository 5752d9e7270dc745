/* Look a lead up by its id: its scores over time (GET /v1/leads/{id}/scores) and what changed
 * between two of them (GET /v1/leads/{id}/changes), as a timeline, a table and a waterfall.
 * The id is sent in the path and matched through its keyed pseudonym; it is never shown back. */

import { api, errorText, handleAuthLoss } from "./api.js";
import { gradeBadge } from "./badges.js";
import { renderChangeWaterfall } from "./change_waterfall.js";
import { stackedTimeEl } from "./dates.js";
import { $, clear, el, setMessage, show } from "./dom.js";
import { intervalText, pct, signed } from "./format.js";
import { renderTimeline } from "./score_timeline.js";
import { state } from "./state.js";

const lead = { id: null, scores: [], token: 0 };
const TREND_WORDS = {
  improving: "Improving",
  steady: "Steady",
  declining: "Declining",
  not_enough_scores: "Not enough scores for a trend",
};

function leadPath(id, tail) {
  return `/v1/leads/${encodeURIComponent(id)}/${tail}`;
}

export function resetLead() {
  lead.id = null;
  lead.scores = [];
  lead.token += 1;
  show($("lead-body"), false);
  show($("change-view"), false);
  setMessage($("lead-error"), "");
  $("lead-status").textContent = "";
}

async function lookUp(id) {
  const token = ++lead.token;
  setMessage($("lead-error"), "");
  $("lead-status").textContent = "Loading…";
  try {
    const history = await api(`${leadPath(id, "scores")}?limit=200`);
    if (token !== lead.token) return;
    lead.id = id;
    lead.scores = history.scores;
    renderHistory(history);
    const scored = history.scores.filter((s) => s.kind === "score");
    if (scored.length >= 2) await showChange(scored[1].score_id, scored[0].score_id);
    else show($("change-view"), false);
  } catch (err) {
    if (token !== lead.token || handleAuthLoss(err)) return;
    show($("lead-body"), false);
    $("lead-status").textContent = "";
    setMessage($("lead-error"), errorText(err));
  }
}

function renderHistory(history) {
  const n = history.total;
  $("lead-status").textContent = `${n} record${n === 1 ? "" : "s"} of this lead (key ${history.lead_key.slice(0, 12)}…)${history.next_cursor ? "; the newest 200 are shown" : ""}.`;
  const t = history.trend;
  $("lead-trend").textContent = `Trend: ${TREND_WORDS[t.direction] || t.direction}${t.change === null ? "" : ` (${signed(t.change * 100, 1)} points over the last ${t.scores_used} scores)`}`;
  $("lead-trend").title = t.rule;
  renderTimeline($("lead-timeline"), history.scores);
  const body = $("lead-scores").querySelector("tbody");
  clear(body);
  const scored = history.scores.filter((s) => s.kind === "score");
  for (const s of history.scores) {
    const pickable = s.kind === "score";
    const pick = (name, checked) =>
      pickable
        ? el("input", { type: "radio", name, value: s.score_id, checked, "aria-label": `${name === "change-from" ? "From" : "To"} the score of ${s.created_at}`, dataset: { testid: `${name}-${s.score_id}` } })
        : el("span", { className: "muted", text: "—" });
    const last = s.decisions.length ? s.decisions[s.decisions.length - 1] : null;
    body.append(
      el("tr", { dataset: { scoreId: s.score_id } }, [
        el("td", {}, pick("change-from", scored[1] && scored[1].score_id === s.score_id)),
        el("td", {}, pick("change-to", scored[0] && scored[0].score_id === s.score_id)),
        el("td", {}, stackedTimeEl(s.created_at)),
        el("td", { text: `v${s.model.version}` }),
        el("td", { className: "num", text: pickable ? pct(s.score) : "not scored" }),
        el("td", {}, pickable ? gradeBadge(s.grade) : el("span", { className: "muted", text: s.suppressed || "suppressed" })),
        el("td", { text: pickable ? intervalText(s.interval) : "—" }),
        el("td", { text: s.review && s.review.required ? s.review.reasons.join(", ") : "—" }),
        el("td", { text: last ? `${last.decision}${last.grade ? ` → ${last.grade}` : ""} by ${last.decided_by}` : "—" }),
      ]),
    );
  }
  show($("lead-body"), true);
}

async function showChange(fromId, toId) {
  const token = ++lead.token;
  try {
    const query = new URLSearchParams({ from: fromId, to: toId });
    const change = await api(`${leadPath(lead.id, "changes")}?${query}`);
    if (token !== lead.token) return;
    $("change-summary").textContent = change.summary;
    renderChangeWaterfall($("change-waterfall"), change);
    $("change-caption").textContent =
      `Earlier margin ${signed(change.from.margin, 3)} + the parts (${signed(change.total_change, 3)}) = later margin ` +
      `${signed(change.to.margin, 3)} log-odds (rounding ${change.residual.toExponential(1)}). ${change.rule}`;
    const list = $("change-parts");
    clear(list);
    if (change.model_part) list.append(el("li", { className: "change-part change-model", text: change.model_part.text }));
    for (const p of change.parts) list.append(el("li", { className: "change-part", text: p.text }));
    if (change.unchanged_inputs.length) {
      list.append(el("li", { className: "muted", text: `${change.unchanged_inputs.length} input(s) unchanged.` }));
    }
    show($("change-view"), true);
  } catch (err) {
    if (token !== lead.token || handleAuthLoss(err)) return;
    show($("change-view"), false);
    setMessage($("lead-error"), errorText(err));
  }
}

function pickedChange() {
  const from = document.querySelector('input[name="change-from"]:checked');
  const to = document.querySelector('input[name="change-to"]:checked');
  if (!from || !to) return;
  if (from.value === to.value) {
    setMessage($("lead-error"), "Pick two different scores to compare.");
    show($("change-view"), false);
    return;
  }
  setMessage($("lead-error"), "");
  showChange(from.value, to.value);
}

export function initLeadLookup() {
  $("lead-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state.key) return;
    const id = $("lead-id").value;
    if (!id.trim()) {
      setMessage($("lead-error"), "Type the lead's id first.");
      $("lead-id").focus();
      return;
    }
    lookUp(id);
  });
  $("lead-scores").addEventListener("change", (event) => {
    if (event.target.matches('input[type="radio"]')) pickedChange();
  });
}
