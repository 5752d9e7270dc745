/* The detail panel: one record of either kind, fetched and shown in its view with its
 * decision form; a newer selection made meanwhile wins. */

import { api, errorText, handleAuthLoss } from "./api.js";
import { createDecisionForm } from "./decision_form.js";
import { $, setMessage, show } from "./dom.js";
import { renderForecastDetail } from "./forecast_detail.js";
import { loadQueue, markSelected } from "./queue.js";
import { showInHash } from "./route.js";
import { renderScoreDetail } from "./score_detail.js";
import { state } from "./state.js";

const VIEWS = {
  score: { path: (id) => `/v1/scores/${id}`, body: "detail-body", render: renderScoreDetail },
  forecast: { path: (id) => `/v1/forecasts/${id}`, body: "forecast-body", render: renderForecastDetail },
};
const forms = {};

/** Build each kind's decision form into its place on the page. */
export function initDetail() {
  for (const kind of Object.keys(VIEWS)) {
    forms[kind] = createDecisionForm(kind, {
      mount: document.querySelector(`[data-decision-form="${kind}"]`),
      reopen: (id) => openItem(kind, id, { keepForm: true }),
      afterRecorded: () => loadQueue(),
    });
  }
}

function showOnly(bodyId) {
  show($("detail-empty"), bodyId === "detail-empty");
  for (const view of Object.values(VIEWS)) show($(view.body), view.body === bodyId);
}

/** Nothing selected. */
export function resetDetail() {
  showOnly("detail-empty");
  setMessage($("detail-error"), "");
}

/** Fetch one record (a lead score unless `kind` is "forecast") and show it. */
export async function openItem(kind, id, { keepForm = false } = {}) {
  const name = kind === "forecast" ? "forecast" : "score";
  const view = VIEWS[name];
  const token = ++state.detailToken;
  state.selectedId = id;
  markSelected();
  setMessage($("detail-error"), "");
  $("detail").setAttribute("aria-busy", "true");
  try {
    const record = await api(view.path(encodeURIComponent(id)));
    if (token !== state.detailToken) return;
    showInHash(name, id);
    showOnly(view.body);
    view.render(record);
    forms[name].show(record, { keepForm });
  } catch (err) {
    if (token !== state.detailToken || handleAuthLoss(err)) return;
    showOnly(null);
    setMessage($("detail-error"), errorText(err));
  } finally {
    if (token === state.detailToken) $("detail").removeAttribute("aria-busy");
  }
}
