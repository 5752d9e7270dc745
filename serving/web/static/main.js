/* Candor review page: sign in with an API key, work the review queue, record decisions.
 *
 * Native ES modules, no framework, no build step. Every value that comes from the API is put
 * on the page with textContent or createElement (dom.js), never innerHTML: a comment or a
 * feature value cannot inject markup or script. This module wires the page together: signing
 * in and out, the filters, the queue's rows and the URL fragment.
 *
 * The other modules, one job each: api.js (fetch with the key), dom.js (safe builders),
 * format.js and dates.js (text), state.js, route.js (the fragment), review_codes.js (the codes,
 * from the API), queue.js, detail.js (one record) with score_detail.js and forecast_detail.js
 * (charts: waterfall.js, drivers_chart.js, chart_axes.js), decision_form.js (one form for both
 * kinds) with decision_history.js, badges.js (grade, series), lead_lookup.js (one lead's scores
 * over time: score_timeline.js, and what changed between two: change_waterfall.js).
 */

import { api, ApiError, errorText, onAuthLoss } from "./api.js";
import { initDetail, openItem, resetDetail } from "./detail.js";
import { initLeadLookup, resetLead } from "./lead_lookup.js";
import { $, clear, setMessage, show } from "./dom.js";
import { KINDS, loadQueue, resetQueue, rowFromEvent } from "./queue.js";
import { loadReviewCodes } from "./review_codes.js";
import { clearHash, wantedFromHash } from "./route.js";
import { state } from "./state.js";

const KEY_STORAGE = "candor.review.apiKey";

async function signIn(key, { silent = false } = {}) {
  const button = $("sign-in");
  setMessage($("login-error"), "");
  button.disabled = true;
  button.textContent = "Signing in…";
  try {
    const who = await api("/v1/whoami", { key });
    // whoami admits any key; the review codes (a reviewer's read) say, in the API's own words,
    // whether this role may review
    await loadReviewCodes(key);
    state.key = key;
    state.who = who;
    sessionStorage.setItem(KEY_STORAGE, key);
    $("api-key").value = "";
    $("whoami").textContent = `Signed in as ${who.name} (${who.role})`;
    show($("session"), true);
    show($("login"), false);
    show($("app"), true);
    const wanted = wantedFromHash();
    if (wanted && wanted.kind !== state.kind) setKind(wanted.kind);
    else resetQueue();
    await loadQueue();
    if (wanted) openItem(wanted.kind, wanted.id);
    else $("status-filter").focus();
  } catch (err) {
    sessionStorage.removeItem(KEY_STORAGE);
    if (!silent || !(err instanceof ApiError && err.status === 401)) {
      setMessage($("login-error"), errorText(err));
    }
    $("api-key").focus();
  } finally {
    button.disabled = false;
    button.textContent = "Sign in";
  }
}

function signOut(message = "") {
  sessionStorage.removeItem(KEY_STORAGE);
  state.key = null;
  state.who = null;
  state.items = [];
  state.nextCursor = null;
  state.selectedId = null;
  state.queueToken += 1;
  state.detailToken += 1;
  clear($("queue-body"));
  resetDetail();
  resetLead();
  $("lead-id").value = "";
  $("whoami").textContent = "";
  show($("session"), false);
  show($("app"), false);
  show($("login"), true);
  setMessage($("login-error"), message);
  clearHash();
  $("api-key").focus();
}

// lead scores or forecasts: the columns, the reason codes and the detail view all follow
function setKind(kind) {
  if (!KINDS.includes(kind)) return;
  state.kind = kind;
  state.reason = "";
  state.items = [];
  state.nextCursor = null;
  state.selectedId = null;
  state.detailToken += 1;
  $("kind-filter").value = kind;
  resetQueue();
  resetDetail();
  clearHash();
}

function init() {
  initDetail();
  initLeadLookup();
  onAuthLoss(signOut);

  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) {
      setMessage($("login-error"), "Paste your API key first.");
      $("api-key").focus();
      return;
    }
    signIn(key);
  });
  $("sign-out").addEventListener("click", () => signOut(""));

  $("kind-filter").addEventListener("change", (event) => {
    setKind(event.target.value);
    loadQueue();
  });
  $("status-filter").addEventListener("change", (event) => {
    state.status = event.target.value;
    state.nextCursor = null;
    loadQueue();
  });
  $("reason-filter").addEventListener("change", (event) => {
    state.reason = event.target.value;
    state.nextCursor = null;
    loadQueue();
  });
  $("refresh-queue").addEventListener("click", () => loadQueue());
  $("load-more").addEventListener("click", () => loadQueue({ append: true }));

  $("queue-body").addEventListener("click", (event) => {
    const row = rowFromEvent(event);
    if (row) openItem(row.dataset.kind, row.dataset.scoreId);
  });
  $("queue-body").addEventListener("keydown", (event) => {
    const row = rowFromEvent(event);
    if (!row) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      openItem(row.dataset.kind, row.dataset.scoreId);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
      if (next && next.matches("tr[data-score-id]")) next.focus();
    }
  });

  // a pasted link to one score (/review#<score_id>) or forecast (/review#forecast/<id>) opens it
  window.addEventListener("hashchange", () => {
    const wanted = wantedFromHash();
    if (!state.key || !wanted || wanted.id === state.selectedId) return;
    if (wanted.kind !== state.kind) {
      setKind(wanted.kind);
      loadQueue();
    }
    openItem(wanted.kind, wanted.id);
  });

  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) signIn(saved, { silent: true });
  else $("api-key").focus();
}

// a module runs once the document is parsed
init();
