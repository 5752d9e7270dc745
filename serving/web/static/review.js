/* Candor review page: sign in with an API key, work the review queue, record decisions.
 *
 * Plain ES2020, no framework, no build step. Every value that comes from the API is put on
 * the page with textContent or createElement, never innerHTML: a comment or a feature value
 * cannot inject markup or script.
 */
"use strict";

(() => {
  const KEY_STORAGE = "candor.review.apiKey";
  const PAGE_SIZE = 50;
  const WATERFALL_TOP = 12; // contributions drawn one by one; the rest are grouped
  const SVG_NS = "http://www.w3.org/2000/svg";

  // the API lives beside the page: /review -> /v1/..., /prefix/review -> /prefix/v1/...
  const API_BASE = window.location.pathname.replace(/\/review\/?$/, "");

  const REASON_LABELS = {
    low_confidence: "Low confidence",
    out_of_distribution: "Unusual inputs",
    near_grade_boundary: "Near grade boundary",
    random_audit: "Random audit",
    wide_interval: "Wide interval",
    recent_break: "Recent break",
    last_actuals_outside_interval: "Recent actuals outside 95%",
  };
  const REASON_HELP = {
    low_confidence: "The confidence interval is wide: few similar leads were seen in calibration.",
    out_of_distribution: "Some inputs are missing or unlike anything seen in training.",
    near_grade_boundary: "The score is close to a grade cut-off; a small change would move the grade.",
    random_audit: "Drawn at random so that reviewers also see scores no rule flagged.",
    wide_interval: "The 80% interval of some forecast week is wide for the forecast: the model is unsure.",
    recent_break: "The latest weeks all missed their one-week-ahead forecasts on the same side: the series may have shifted.",
    last_actuals_outside_interval: "Recent actual weeks fell outside the 95% interval forecast for them one week before.",
  };
  // the review codes of each kind, in the order the reason filter offers them
  const REASONS_BY_KIND = {
    score: ["low_confidence", "out_of_distribution", "near_grade_boundary", "random_audit"],
    forecast: ["wide_interval", "recent_break", "last_actuals_outside_interval"],
  };
  const REASON_FILTER_LABELS = {
    out_of_distribution: "Unusual inputs (out of distribution)",
    near_grade_boundary: "Near a grade boundary",
    last_actuals_outside_interval: "Recent actuals outside the 95% interval",
  };
  const KIND_NOUNS = { score: ["score", "scores"], forecast: ["forecast", "forecasts"] };
  const QUEUE_COLUMNS = {
    score: [["Scored"], ["Grade"], ["Score", "num"], ["Review reasons"], ["Model"], ["Decision"]],
    forecast: [["Forecast made"], ["Series"], ["Review reasons"], ["Model"], ["Decision"]],
  };
  const DRIVERS = [
    ["recent_level", "Recent level"],
    ["seasonality", "Seasonality"],
    ["activity", "Activity"],
  ];
  const FORECAST_HASH = /^forecast\/(.+)$/; // /review#forecast/<forecast_id> opens a forecast

  const state = {
    key: null,
    who: null,
    kind: "score",
    status: "pending",
    reason: "",
    items: [],
    nextCursor: null,
    selectedId: null,
    detail: null,
    queueToken: 0,
    detailToken: 0,
  };

  const $ = (id) => document.getElementById(id);

  // --- small DOM helpers ------------------------------------------------------------------

  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === null) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "className") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, String(value));
    }
    for (const child of [].concat(children)) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs = {}, text = null) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    if (text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function setMessage(node, message) {
    node.textContent = message || "";
    node.hidden = !message;
  }

  // --- formatting -------------------------------------------------------------------------

  const isNumber = (x) => typeof x === "number" && Number.isFinite(x);

  function pct(p, digits = 1) {
    return isNumber(p) ? `${(p * 100).toFixed(digits)}%` : "—";
  }

  function intervalText(interval) {
    if (!Array.isArray(interval) || interval.length !== 2) return "—";
    const [lo, hi] = interval;
    // whole percents read best; show a decimal only where rounding would hide the width
    const digits = pct(lo, 0) === pct(hi, 0) ? 1 : 0;
    return `${pct(lo, digits)}–${pct(hi, digits)}`;
  }

  function signed(x, digits = 2) {
    if (!isNumber(x)) return "—";
    if (x === 0) return (0).toFixed(digits);
    // a tiny but real contribution keeps its sign and a digit that shows it is not zero
    const places = Math.abs(x) < 0.5 * 10 ** -digits ? digits + 1 : digits;
    return (x > 0 ? "+" : "-") + Math.abs(x).toFixed(places);
  }

  function arrow(x) {
    if (!isNumber(x) || x === 0) return "";
    return x > 0 ? "▲" : "▼";
  }

  const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;
  const thisYear = new Date().getFullYear();
  const timeFormat = (withYear) =>
    new Intl.DateTimeFormat(undefined, {
      year: withYear ? "numeric" : undefined,
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  const formats = { year: timeFormat(true), short: timeFormat(false) };
  // a date without a time (an outcome "observed 2025-03-01") is a calendar day, not UTC midnight
  const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

  function timeEl(iso) {
    if (!iso) return el("span", { text: "—" });
    const value = String(iso);
    const date = new Date(DAY_ONLY.test(value) ? `${value}T00:00:00Z` : value);
    let text = value;
    if (!Number.isNaN(date.getTime())) {
      if (DAY_ONLY.test(value)) text = dayFormat.format(date);
      else text = (date.getFullYear() === thisYear ? formats.short : formats.year).format(date);
    }
    return el("time", { datetime: value, title: value, text });
  }

  // the queue's narrow first column: the day over the time of day
  const dayPart = {
    year: new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" }),
    short: new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" }),
  };
  const clockPart = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

  function stackedTimeEl(iso) {
    const date = new Date(iso);
    if (!iso || Number.isNaN(date.getTime())) return timeEl(iso);
    const day = (date.getFullYear() === thisYear ? dayPart.short : dayPart.year).format(date);
    return el("time", { datetime: iso, title: iso, className: "stacked" }, [
      el("span", { className: "day", text: day }),
      el("span", { className: "clock", text: clockPart.format(date) }),
    ]);
  }

  function humanise(name) {
    const words = String(name).replace(/_/g, " ").trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function reasonLabel(code) {
    return REASON_LABELS[code] || humanise(code);
  }

  function valueText(value) {
    if (value === null || value === undefined) return "not recorded";
    if (typeof value === "boolean") return value ? "yes" : "no";
    return String(value);
  }

  function gradeBadge(grade, extraClass = "") {
    const letter = grade || "–";
    return el("span", {
      className: `grade grade-${grade || "none"} ${extraClass}`.trim(),
      title: grade ? `Grade ${grade}` : "No grade",
      text: letter,
    });
  }

  function reasonChip(code) {
    return el("li", {
      className: `chip chip-${code}`,
      title: REASON_HELP[code] || code,
      dataset: { reason: code },
      text: reasonLabel(code),
    });
  }

  function decisionSummary(decision) {
    if (!decision) return "Pending";
    if (decision.decision === "override") return decision.grade ? `Override → ${decision.grade}` : "Overridden";
    return "Confirmed";
  }

  // --- the API ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = Array.isArray(details) ? details : [];
    }
  }

  async function api(path, { method = "GET", body, key = state.key } = {}) {
    const headers = { Accept: "application/json" };
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(API_BASE + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (err) {
      throw new ApiError(0, "network", `The service could not be reached (${err.message}).`, []);
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const error = payload && payload.error ? payload.error : {};
      const message = error.message || `The service answered ${response.status} ${response.statusText}.`;
      throw new ApiError(response.status, error.code || "http_error", message, error.details);
    }
    return payload;
  }

  function errorText(err) {
    if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
    const prefix = err.status === 401 ? "Not signed in: " : err.status === 403 ? "Not allowed: " : "";
    return prefix + err.message;
  }

  // a key that stops working mid-session (revoked, expired) sends the reviewer back to sign in
  function handleAuthLoss(err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut(`Your key was refused: ${err.message}`);
      return true;
    }
    return false;
  }

  // --- sign in and out --------------------------------------------------------------------

  async function signIn(key, { silent = false } = {}) {
    const button = $("sign-in");
    setMessage($("login-error"), "");
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      const who = await api("/v1/whoami", { key });
      // whoami admits any key; the queue tells us (with the API's own words) if this role may review
      await api(`/v1/reviews?${new URLSearchParams({ status: "pending", limit: "1" })}`, { key });
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
    state.detail = null;
    state.queueToken += 1;
    state.detailToken += 1;
    clear($("queue-body"));
    resetDetail();
    $("whoami").textContent = "";
    show($("session"), false);
    show($("app"), false);
    show($("login"), true);
    setMessage($("login-error"), message);
    history.replaceState(null, "", window.location.pathname + window.location.search);
    $("api-key").focus();
  }

  // --- the queue --------------------------------------------------------------------------

  async function loadQueue({ append = false } = {}) {
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
      const colspan = QUEUE_COLUMNS[state.kind].length;
      body.append(el("tr", { className: "empty-row" }, el("td", { colspan, text: empty })));
    }
    for (const item of state.items) body.append(item.kind === "forecast" ? forecastQueueRow(item) : queueRow(item));
    const more = state.nextCursor ? " (more available)" : "";
    const [one, many] = KIND_NOUNS[state.kind];
    const noun = state.items.length === 1 ? one : many;
    $("queue-status").textContent = `${state.items.length} ${noun} ${state.status}${more}`;
    show($("load-more"), Boolean(state.nextCursor));
  }

  function renderQueueHead() {
    const row = el(
      "tr",
      {},
      QUEUE_COLUMNS[state.kind].map(([label, className]) => el("th", { scope: "col", className, text: label })),
    );
    $("queue-head").replaceChildren(row);
    $("queue-caption").textContent =
      `${humanise(KIND_NOUNS[state.kind][1])} flagged for human review, newest first. Select a row to open it.`;
  }

  function renderReasonOptions() {
    const select = $("reason-filter");
    const options = [el("option", { value: "", text: "All reasons" })];
    for (const code of REASONS_BY_KIND[state.kind]) {
      options.push(el("option", { value: code, text: REASON_FILTER_LABELS[code] || reasonLabel(code) }));
    }
    select.replaceChildren(...options);
    select.value = state.reason;
  }

  // lead scores or forecasts: the columns, the reason codes and the detail view all follow
  function setKind(kind) {
    if (!(kind in REASONS_BY_KIND)) return;
    state.kind = kind;
    state.reason = "";
    state.items = [];
    state.nextCursor = null;
    state.selectedId = null;
    state.detail = null;
    state.detailToken += 1;
    $("kind-filter").value = kind;
    renderReasonOptions();
    renderQueueHead();
    clear($("queue-body"));
    resetDetail();
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  function queueCells(item) {
    const reasons = el("ul", { className: "chips chips-compact" });
    for (const code of item.review_reasons || []) reasons.append(reasonChip(code));
    const decision = item.latest_decision;
    const decisionCell = el("td", { className: decision ? `decided decided-${decision.decision}` : "pending" });
    decisionCell.append(el("span", { text: decisionSummary(decision) }));
    if (decision) decisionCell.append(el("span", { className: "by", text: decision.decided_by }));
    const model = item.model || {};
    return {
      reasons: el("td", {}, reasons),
      model: el("td", { className: "model", title: `${model.name || ""} version ${model.version || ""}`, text: `v${model.version || "?"}` }),
      decision: decisionCell,
    };
  }

  function queueRowShell(item, cells) {
    const row = el(
      "tr",
      {
        tabindex: 0,
        className: "queue-row",
        dataset: { scoreId: item.score_id, kind: item.kind || "score", testid: "queue-row" },
      },
      cells,
    );
    if (item.score_id === state.selectedId) row.setAttribute("aria-current", "true");
    return row;
  }

  function queueRow(item) {
    const cells = queueCells(item);
    return queueRowShell(item, [
      el("td", {}, stackedTimeEl(item.created_at)),
      el("td", {}, gradeBadge(item.grade)),
      el("td", { className: "num", text: pct(item.score) }),
      cells.reasons,
      cells.model,
      cells.decision,
    ]);
  }

  function seriesNode(series, className = "series-parts") {
    const entries = Object.entries(series || {});
    if (!entries.length) return el("span", { className: "muted", text: "—" });
    const node = el("span", { className });
    entries.forEach(([field, value], i) => {
      if (i) node.append(el("span", { className: "series-sep", "aria-hidden": "true", text: " / " }));
      node.append(el("span", { className: "series-part", title: humanise(field) }, [
        el("span", { className: "series-field", text: `${humanise(field)} ` }),
        el("span", { className: "series-value", text: valueText(value) }),
      ]));
    });
    return node;
  }

  function forecastQueueRow(item) {
    const cells = queueCells(item);
    return queueRowShell(item, [
      el("td", {}, stackedTimeEl(item.created_at)),
      el("td", { className: "series-cell" }, seriesNode(item.series)),
      cells.reasons,
      cells.model,
      cells.decision,
    ]);
  }

  function rowFromEvent(event) {
    const row = event.target.closest("tr[data-score-id]");
    return row && $("queue-body").contains(row) ? row : null;
  }

  // --- one score in detail ----------------------------------------------------------------

  function resetDetail() {
    show($("detail-empty"), true);
    show($("detail-body"), false);
    show($("forecast-body"), false);
    setMessage($("detail-error"), "");
  }

  function wantedFromHash() {
    const raw = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    if (!raw) return null;
    const forecast = FORECAST_HASH.exec(raw);
    return forecast ? { kind: "forecast", id: forecast[1] } : { kind: "score", id: raw };
  }

  function openItem(kind, id, options) {
    return kind === "forecast" ? openForecast(id, options) : openDetail(id, options);
  }

  function markSelected() {
    for (const row of $("queue-body").querySelectorAll("tr[data-score-id]")) {
      if (row.dataset.scoreId === state.selectedId) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
  }

  // Fetch one audit record and render it; a newer selection made meanwhile wins.
  async function openRecord(id, { path, hash, render, keepForm }) {
    const token = ++state.detailToken;
    state.selectedId = id;
    markSelected();
    setMessage($("detail-error"), "");
    $("detail").setAttribute("aria-busy", "true");
    try {
      const record = await api(path);
      if (token !== state.detailToken) return;
      state.detail = record;
      history.replaceState(null, "", hash);
      render(record, { keepForm });
    } catch (err) {
      if (token !== state.detailToken || handleAuthLoss(err)) return;
      show($("detail-empty"), false);
      show($("detail-body"), false);
      show($("forecast-body"), false);
      setMessage($("detail-error"), errorText(err));
    } finally {
      if (token === state.detailToken) $("detail").removeAttribute("aria-busy");
    }
  }

  function openDetail(scoreId, { keepForm = false } = {}) {
    const id = encodeURIComponent(scoreId);
    return openRecord(scoreId, {
      path: `/v1/scores/${id}`, hash: `#${id}`, render: renderDetail, keepForm,
    });
  }

  function renderDetail(record, { keepForm }) {
    show($("detail-empty"), false);
    show($("forecast-body"), false);
    show($("detail-body"), true);
    const scored = record.kind !== "suppression" && isNumber(record.score);

    $("d-score").textContent = pct(record.score);
    const grade = $("d-grade");
    grade.className = `grade grade-large grade-${record.grade || "none"}`;
    grade.textContent = record.grade || "–";
    grade.title = record.grade ? `Model grade ${record.grade}` : "No grade";

    const decisions = record.decisions || [];
    const standing = decisions.length ? decisions[decisions.length - 1] : null;
    const standingNode = $("d-standing");
    clear(standingNode);
    if (standing && standing.decision === "override") {
      standingNode.append("→ reviewer grade ", gradeBadge(standing.grade, "grade-large"));
    } else if (standing) {
      standingNode.append(el("span", { className: "tag tag-ok", text: "✓ confirmed" }));
    }

    const conf = record.confidence;
    const confNode = $("d-confidence");
    clear(confNode);
    if (conf) {
      confNode.append(
        el("span", { className: `level level-${conf.level}`, text: `${humanise(conf.level)} confidence` }),
        " · interval ",
        el("strong", { text: intervalText(conf.interval) }),
        ` (${conf.method || "method not recorded"}${conf.coverage ? `; ${conf.coverage}` : ""})`,
      );
    }

    $("d-created").replaceChildren(timeEl(record.created_at));
    $("d-lead").textContent = record.lead_key || "—";
    $("d-lead").title = "Pseudonymised lead id (keyed hash); never the CRM id";
    const model = record.model || {};
    $("d-model").textContent = `${model.name || "?"} v${model.version || "?"}`;
    $("d-model").title = `run ${model.run_id || "?"}; contract ${model.contract || "?"}`;
    $("d-requested").textContent = record.requested_by || "—";

    const suppressed = $("d-suppressed");
    suppressed.textContent = record.suppressed
      ? `This lead was not scored (${record.suppressed}): there is nothing to explain.`
      : "";
    show(suppressed, Boolean(record.suppressed));

    renderReview(record.review);
    show($("d-explain-block"), scored);
    if (scored) {
      renderWaterfall(record);
      renderReasons(record);
    }
    renderHistory($("decision-history"), decisions, "No decision yet: the model's grade stands unreviewed.");
    renderFeatures(record);
    renderOutcomes(record.outcomes || []);
    $("d-score-id").textContent = record.score_id;
    $("d-hash").textContent = record.record_hash || "—";

    $("confirm-grade").textContent = record.grade ? `(${record.grade})` : "";
    if (!keepForm) resetForm();
  }

  function renderReview(review) {
    const reasons = $("d-review-reasons");
    const notes = $("d-review-notes");
    clear(reasons);
    clear(notes);
    const codes = review && Array.isArray(review.reasons) ? review.reasons : [];
    if (codes.length === 0) {
      reasons.append(el("li", { className: "chip chip-none", text: "Not flagged" }));
    }
    for (const code of codes) {
      const chip = reasonChip(code);
      reasons.append(chip);
    }
    for (const code of codes) {
      if (REASON_HELP[code]) notes.append(el("li", { className: "muted", text: `${reasonLabel(code)}: ${REASON_HELP[code]}` }));
    }
    for (const note of (review && review.notes) || []) notes.append(el("li", { text: note }));
  }

  function sortedContributions(record) {
    return (record.contributions || [])
      .filter((c) => isNumber(c.contribution))
      .slice()
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  }

  function renderReasons(record) {
    const list = $("d-reasons");
    clear(list);
    for (const c of sortedContributions(record)) {
      const dir = c.contribution > 0 ? "up" : c.contribution < 0 ? "down" : "flat";
      list.append(
        el("li", { className: `reason reason-${dir}`, dataset: { feature: c.feature } }, [
          el("span", { className: "reason-arrow", "aria-hidden": "true", text: arrow(c.contribution) || "•" }),
          el("span", { className: "reason-text", text: c.text || humanise(c.feature) }),
          el("span", { className: "reason-value mono", text: signed(c.contribution) }),
        ]),
      );
    }
    if (!list.firstChild) list.append(el("li", { className: "muted", text: "No contributions were recorded." }));
  }

  // --- the waterfall ----------------------------------------------------------------------

  function niceStep(span, target) {
    const raw = span / Math.max(target, 1);
    const power = 10 ** Math.floor(Math.log10(raw));
    for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * power) return m * power;
    return 10 * power;
  }

  function truncate(text, max) {
    return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
  }

  function stepLabel(c, withheld) {
    const name = humanise(c.feature);
    if (withheld.has(c.feature)) return `${name} = withheld`;
    if (c.value === null || c.value === undefined) return `${name} = missing`;
    return `${name} = ${valueText(c.value)}`;
  }

  function renderWaterfall(record) {
    const chart = $("waterfall");
    clear(chart);
    const contributions = sortedContributions(record);
    const withheld = new Set(record.withheld || []);
    const base = isNumber(record.base_value) ? record.base_value : 0;
    const top = contributions.slice(0, WATERFALL_TOP);
    const rest = contributions.slice(WATERFALL_TOP);

    const steps = top.map((c) => ({ label: stepLabel(c, withheld), full: c.text || stepLabel(c, withheld), delta: c.contribution }));
    if (rest.length) {
      const delta = rest.reduce((sum, c) => sum + c.contribution, 0);
      const label = `Other ${rest.length} input${rest.length === 1 ? "" : "s"}`;
      steps.push({ label, full: `${label}: ${rest.map((c) => humanise(c.feature)).join(", ")}`, delta, grouped: true });
    }
    let running = base;
    for (const step of steps) {
      step.from = running;
      running += step.delta;
      step.to = running;
    }
    // the stored margin is the truth; the sum matches it up to rounding when every input is listed
    const margin = isNumber(record.margin) ? record.margin : running;

    const width = 820;
    const labelW = 250;
    const valueW = 150;
    const rowH = 26;
    const barH = 16;
    const padTop = 20; // room for the "0 = 50%" mark above the plot
    const rows = steps.length + 2;
    const plotTop = padTop;
    const plotBottom = padTop + rows * rowH;
    const height = plotBottom + 46;
    const x0 = labelW + 12;
    const x1 = width - valueW - 8;

    const values = [0, base, margin, ...steps.flatMap((s) => [s.from, s.to])];
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi - lo < 1e-9) {
      lo -= 0.5;
      hi += 0.5;
    }
    const pad = (hi - lo) * 0.04;
    lo -= pad;
    hi += pad;
    const step = niceStep(hi - lo, 6);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    const x = (v) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);

    chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
    chart.setAttribute("width", width);
    chart.setAttribute("height", height);
    chart.setAttribute("preserveAspectRatio", "xMinYMin meet");

    const summary = `Starts at the base value ${signed(base)} log-odds; ${steps.length} steps; ends at the margin ${signed(margin)} log-odds, a score of ${pct(record.score)}.`;
    chart.append(svg("title", { id: "waterfall-svg-title" }, "Waterfall of the inputs' contributions (log-odds)"));
    chart.append(svg("desc", { id: "waterfall-svg-desc" }, summary));

    // grid and axis
    const grid = svg("g", { class: "wf-grid" });
    for (let t = lo; t <= hi + step / 2; t += step) {
      const tick = Math.abs(t) < step / 1e6 ? 0 : t;
      const tx = x(tick);
      grid.append(svg("line", { x1: tx, x2: tx, y1: plotTop, y2: plotBottom, class: tick === 0 ? "wf-zero" : "wf-gridline" }));
      grid.append(svg("line", { x1: tx, x2: tx, y1: plotBottom, y2: plotBottom + 5, class: "wf-axis" }));
      const digits = step < 0.1 ? 2 : step < 1 ? 1 : 0;
      grid.append(svg("text", { x: tx, y: plotBottom + 18, class: "wf-tick", "text-anchor": "middle" }, tick.toFixed(digits)));
    }
    grid.append(svg("line", { x1: x0, x2: x1, y1: plotBottom, y2: plotBottom, class: "wf-axis" }));
    grid.append(svg("text", { x: (x0 + x1) / 2, y: plotBottom + 38, class: "wf-axis-title", "text-anchor": "middle" }, "log-odds"));
    if (lo < 0 && hi > 0) {
      grid.append(svg("text", { x: x(0), y: plotTop - 6, class: "wf-zero-label", "text-anchor": "middle" }, "0 = 50%"));
    }
    chart.append(grid);

    const bars = svg("g", { class: "wf-bars" });
    const rowY = (i) => plotTop + i * rowH;
    const addLabel = (i, text, full, cls = "wf-label") => {
      const label = svg("text", { x: labelW, y: rowY(i) + rowH / 2 + 4, "text-anchor": "end", class: cls }, truncate(text, 38));
      if (full && full !== text) label.append(svg("title", {}, full));
      bars.append(label);
    };
    const addValue = (i, text, cls) => {
      bars.append(svg("text", { x: x1 + 10, y: rowY(i) + rowH / 2 + 4, class: cls }, text));
    };
    const addTotal = (i, value, cls) => {
      const a = Math.min(x(0), x(value));
      const w = Math.max(Math.abs(x(value) - x(0)), 2);
      bars.append(svg("rect", { x: a, y: rowY(i) + (rowH - barH) / 2, width: w, height: barH, rx: 2, class: cls }));
      bars.append(svg("line", { x1: x(value), x2: x(value), y1: rowY(i) + 2, y2: rowY(i) + rowH - 2, class: "wf-marker" }));
    };

    // start: the base value (what the model expects of an average training lead)
    addLabel(0, "Base value (average lead)", "Expected model output over the training data", "wf-label wf-label-strong");
    addTotal(0, base, "wf-total wf-base");
    addValue(0, signed(base), "wf-value wf-value-strong");

    steps.forEach((s, k) => {
      const i = k + 1;
      const dir = s.delta > 0 ? "up" : s.delta < 0 ? "down" : "flat";
      const a = Math.min(x(s.from), x(s.to));
      const w = Math.max(Math.abs(x(s.to) - x(s.from)), 1.5);
      addLabel(i, s.label, s.full, s.grouped ? "wf-label wf-label-grouped" : "wf-label");
      const rect = svg("rect", { x: a, y: rowY(i) + (rowH - barH) / 2, width: w, height: barH, rx: 2, class: `wf-bar wf-${dir}${s.grouped ? " wf-grouped" : ""}` });
      rect.append(svg("title", {}, `${s.full}: ${signed(s.delta)} log-odds (running total ${signed(s.to)})`));
      bars.append(rect);
      // connector from the previous running total
      bars.append(svg("line", { x1: x(s.from), x2: x(s.from), y1: rowY(i) - (rowH - barH) / 2, y2: rowY(i) + (rowH - barH) / 2, class: "wf-connector" }));
      const glyph = arrow(s.delta);
      addValue(i, `${glyph ? `${glyph} ` : ""}${signed(s.delta)}`, `wf-value wf-value-${dir}`);
    });

    // end: the margin, and the calibrated probability it stands for
    const end = steps.length + 1;
    bars.append(svg("line", { x1: x(running), x2: x(running), y1: rowY(end) - (rowH - barH) / 2, y2: rowY(end) + (rowH - barH) / 2, class: "wf-connector" }));
    addLabel(end, "Model output (margin)", "This lead's raw model output in log-odds", "wf-label wf-label-strong");
    addTotal(end, margin, "wf-total wf-end");
    addValue(end, `${signed(margin)} → ${pct(record.score)}`, "wf-value wf-value-strong");
    chart.append(bars);

    const caption = $("waterfall-caption");
    caption.textContent =
      `From the base value (the average training lead, ${signed(base)}) each bar adds one input's SHAP ` +
      `contribution, largest first: ▲ green raises the score, ▼ red lowers it. ` +
      (rest.length ? `The ${rest.length} smallest are grouped as "Other ${rest.length} input${rest.length === 1 ? "" : "s"}". ` : "") +
      `The margin ${signed(margin)} log-odds is calibrated (${(record.confidence && record.confidence.method) || "calibration"}) ` +
      `to the score ${pct(record.score)}.`;
  }

  // --- history, inputs, outcomes ----------------------------------------------------------

  function renderHistory(list, decisions, emptyText) {
    clear(list);
    if (decisions.length === 0) {
      list.append(el("li", { className: "history-empty muted", text: emptyText }));
      return;
    }
    decisions.forEach((d, i) => {
      const last = i === decisions.length - 1;
      const head = el("div", { className: "history-head" }, [
        el("strong", { text: d.decision === "override" ? "Override" : "Confirm" }),
        d.decision === "override" && d.grade ? el("span", {}, [" to ", gradeBadge(d.grade)]) : null,
        el("span", { className: "muted", text: ` by ${d.decided_by} · ` }),
        timeEl(d.decided_at),
        last ? el("span", { className: "tag tag-stands", text: "stands" }) : el("span", { className: "tag tag-superseded", text: "superseded" }),
      ]);
      const item = el("li", { className: `history-item${last ? " history-current" : ""}`, dataset: { decision: d.decision } }, head);
      if (d.comment) item.append(el("p", { className: "history-comment", text: d.comment }));
      list.append(item);
    });
  }

  function renderFeatures(record) {
    const body = $("d-features").querySelector("tbody");
    clear(body);
    const features = record.features || {};
    const withheld = new Set(record.withheld || []);
    const effect = new Map((record.contributions || []).map((c) => [c.feature, c.contribution]));
    const order = sortedContributions(record).map((c) => c.feature);
    const names = [...new Set([...order.filter((n) => n in features), ...Object.keys(features), ...withheld])];
    for (const name of names) {
      const isWithheld = withheld.has(name);
      const value = features[name];
      const valueCell = el("td", {
        className: isWithheld ? "withheld" : value === null || value === undefined ? "missing" : "",
        text: isWithheld ? "withheld (no consent)" : valueText(value),
      });
      const c = effect.get(name);
      const dir = isNumber(c) ? (c > 0 ? "up" : c < 0 ? "down" : "flat") : "flat";
      body.append(
        el("tr", { dataset: { feature: name } }, [
          el("th", { scope: "row" }, [el("span", { text: humanise(name) }), el("span", { className: "feature-name mono", text: name })]),
          valueCell,
          el("td", { className: `num effect effect-${dir}`, text: isNumber(c) ? `${arrow(c)} ${signed(c)}`.trim() : "—" }),
        ]),
      );
    }
    if (!names.length) body.append(el("tr", {}, el("td", { colspan: 3, className: "muted", text: "No inputs recorded." })));
  }

  function renderOutcomes(outcomes) {
    const list = $("d-outcomes");
    clear(list);
    if (!outcomes.length) {
      list.append(el("li", { className: "muted", text: "No outcome recorded yet." }));
      return;
    }
    for (const o of outcomes) {
      list.append(
        el("li", { className: o.converted ? "outcome outcome-yes" : "outcome outcome-no" }, [
          el("strong", { text: o.converted ? "✓ Converted" : "✗ Did not convert" }),
          el("span", { className: "muted", text: " · observed " }),
          timeEl(o.observed_at),
          el("span", { className: "muted", text: ` · recorded by ${o.recorded_by}` }),
        ]),
      );
    }
  }

  // --- the decision form ------------------------------------------------------------------

  function chosenDecision() {
    return $("decision-override").checked ? "override" : "confirm";
  }

  function syncForm() {
    const override = chosenDecision() === "override";
    $("override-grade").disabled = !override;
    $("override-grade").required = override;
    $("comment").required = override;
    show($("comment-required"), override);
    $("comment").setAttribute("aria-required", String(override));
    if (!override) $("override-grade").value = "";
  }

  function clearFieldErrors() {
    for (const id of ["override-grade", "comment", "decision-confirm", "decision-override"]) {
      $(id).removeAttribute("aria-invalid");
    }
  }

  function resetForm() {
    $("decision-confirm").checked = true;
    $("decision-override").checked = false;
    $("comment").value = "";
    $("override-grade").value = "";
    clearFieldErrors();
    setMessage($("form-error"), "");
    setMessage($("form-success"), "");
    syncForm();
  }

  async function submitDecision(event) {
    event.preventDefault();
    const scoreId = state.selectedId;
    if (!scoreId) return;
    const decision = chosenDecision();
    const body = { decision, comment: $("comment").value };
    const grade = $("override-grade").value;
    // the API is the one judge of what a decision needs; it names the field that is wrong
    if (decision === "override" && grade) body.grade = grade;
    clearFieldErrors();
    setMessage($("form-error"), "");
    setMessage($("form-success"), "");
    const button = $("submit-decision");
    button.disabled = true;
    button.textContent = "Submitting…";
    try {
      const result = await api(`/v1/reviews/${encodeURIComponent(scoreId)}`, { method: "POST", body });
      const d = result.decision || {};
      const what = d.decision === "override" ? `Override to grade ${d.grade}` : "Confirmation";
      await openDetail(scoreId, { keepForm: true });
      resetForm();
      setMessage($("form-success"), `${what} recorded by ${d.decided_by || state.who.name}.`);
      await loadQueue();
    } catch (err) {
      if (handleAuthLoss(err)) return;
      setMessage($("form-error"), errorText(err));
      const fieldIds = { grade: "override-grade", comment: "comment", decision: "decision-override" };
      let focused = false;
      for (const detail of err.details || []) {
        const id = fieldIds[detail && detail.field];
        if (!id) continue;
        $(id).setAttribute("aria-invalid", "true");
        if (!focused && !$(id).disabled) {
          $(id).focus();
          focused = true;
        }
      }
    } finally {
      button.disabled = false;
      button.textContent = "Submit decision";
    }
  }

  // --- one forecast in detail -------------------------------------------------------------

  const unitFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

  function units(x) {
    return isNumber(x) ? unitFormat.format(x) : "—";
  }

  function signedUnits(x) {
    if (!isNumber(x)) return "—";
    const text = unitFormat.format(Math.abs(x));
    if (text === unitFormat.format(0)) return text;
    return (x > 0 ? "+" : "−") + text;
  }

  function unitRange(lo, hi) {
    return isNumber(lo) && isNumber(hi) ? `${units(lo)} – ${units(hi)}` : "—";
  }

  function seriesText(series) {
    return Object.entries(series || {})
      .map(([field, value]) => `${humanise(field)} ${valueText(value)}`)
      .join(" / ");
  }

  function openForecast(forecastId, { keepForm = false } = {}) {
    const id = encodeURIComponent(forecastId);
    return openRecord(forecastId, {
      path: `/v1/forecasts/${id}`, hash: `#forecast/${id}`, render: renderForecast, keepForm,
    });
  }

  function renderForecast(record, { keepForm }) {
    show($("detail-empty"), false);
    show($("detail-body"), false);
    show($("forecast-body"), true);
    const weeks = Array.isArray(record.forecast) ? record.forecast : [];

    $("f-series").replaceChildren(seriesNode(record.series));
    const decisions = record.decisions || [];
    const standing = decisions.length ? decisions[decisions.length - 1] : null;
    const standingNode = $("f-standing");
    clear(standingNode);
    if (standing && standing.decision === "override") {
      standingNode.append(el("span", { className: "tag tag-overridden", text: "✗ overridden: not to be used as it is" }));
    } else if (standing) {
      standingNode.append(el("span", { className: "tag tag-ok", text: "✓ confirmed" }));
    }

    const total = weeks.reduce((sum, w) => sum + (isNumber(w.point) ? w.point : 0), 0);
    const horizon = isNumber(record.horizon) ? record.horizon : weeks.length;
    const summary = $("f-summary");
    clear(summary);
    summary.append(
      `${horizon} week${horizon === 1 ? "" : "s"} ahead`,
      weeks.length ? ` from the week of ${weeks[0].week_start}` : "",
      " · ",
      el("strong", { text: `${units(total)} units` }),
      " in all (point forecasts added up)",
    );

    $("f-created").replaceChildren(timeEl(record.created_at));
    $("f-last-week").replaceChildren(timeEl(record.last_observed_week));
    const model = record.model || {};
    $("f-model").textContent = `${model.name || "?"} v${model.version || "?"}`;
    $("f-model").title = `run ${model.run_id || "?"}; contract ${model.contract || "?"}`;
    $("f-requested").textContent = record.requested_by || "—";

    renderForecastReview(record.review);
    renderForecastWeeks(weeks);
    renderDriversChart(weeks, record.series);
    renderRecentWeeks(record.recent_weeks);
    renderCovariates(weeks, record.planned_covariates || {}, record.assumed_covariates || []);
    renderHistory($("f-decision-history"), decisions, "No decision yet: the forecast stands unreviewed.");
    $("f-id").textContent = record.forecast_id;
    $("f-hash").textContent = record.record_hash || "—";
    if (!keepForm) resetForecastForm();
  }

  function renderForecastReview(review) {
    const reasons = $("f-review-reasons");
    const notes = $("f-review-notes");
    clear(reasons);
    clear(notes);
    const codes = review && Array.isArray(review.reasons) ? review.reasons : [];
    if (codes.length === 0) reasons.append(el("li", { className: "chip chip-none", text: "Not flagged" }));
    for (const code of codes) reasons.append(reasonChip(code));
    // the policy's own notes carry the numbers (which week, how wide); the help says what the rule means
    for (const note of (review && review.notes) || []) notes.append(el("li", { text: note }));
    for (const code of codes) {
      if (REASON_HELP[code]) notes.append(el("li", { className: "muted", text: `${reasonLabel(code)}: ${REASON_HELP[code]}` }));
    }
  }

  function driverCell(value) {
    const dir = isNumber(value) ? (value > 0 ? "up" : value < 0 ? "down" : "flat") : "flat";
    return el("td", { className: `num effect effect-${dir}`, text: signedUnits(value) });
  }

  function renderForecastWeeks(weeks) {
    const body = $("f-weeks").querySelector("tbody");
    clear(body);
    weeks.forEach((w, i) => {
      const drivers = w.drivers || {};
      body.append(
        el("tr", { dataset: { week: w.week_start } }, [
          el("th", { scope: "row" }, [timeEl(w.week_start), el("span", { className: "week-step", text: `week ${i + 1}` })]),
          el("td", { className: "num point", text: units(w.point) }),
          el("td", { className: "num", text: unitRange(w.lo80, w.hi80) }),
          el("td", { className: "num muted-num", text: unitRange(w.lo95, w.hi95) }),
          ...DRIVERS.map(([name]) => driverCell(drivers[name])),
        ]),
      );
    });
    if (!weeks.length) body.append(el("tr", {}, el("td", { colspan: 7, className: "muted", text: "No forecast weeks recorded." })));
  }

  // one row per week: the drivers stacked from zero (positive rightwards, negative leftwards)
  // and a diamond at the point forecast, which is their sum
  function renderDriversChart(weeks, series) {
    const chart = $("f-drivers");
    clear(chart);
    const rows = weeks.map((w) => ({ week: w.week_start, point: w.point, drivers: w.drivers || {} }));
    chart.toggleAttribute("hidden", rows.length === 0); // an SVG element has no .hidden property
    if (!rows.length) return;

    const width = 760;
    const labelW = 110;
    const valueW = 90;
    const rowH = 24;
    const barH = 14;
    const padTop = 8;
    const plotTop = padTop;
    const plotBottom = padTop + rows.length * rowH;
    const height = plotBottom + 44;
    const x0 = labelW + 10;
    const x1 = width - valueW - 8;

    const values = [0];
    for (const r of rows) {
      let pos = 0;
      let neg = 0;
      for (const [name] of DRIVERS) {
        const v = r.drivers[name];
        if (!isNumber(v)) continue;
        if (v >= 0) pos += v;
        else neg += v;
      }
      values.push(pos, neg);
      if (isNumber(r.point)) values.push(r.point);
    }
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi - lo < 1e-9) hi = lo + 1;
    const step = niceStep(hi - lo, 6);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    const x = (v) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);

    chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
    chart.setAttribute("width", width);
    chart.setAttribute("height", height);
    chart.setAttribute("preserveAspectRatio", "xMinYMin meet");
    chart.append(svg("title", { id: "drivers-svg-title" }, `Drivers of the forecast per week, in units: ${seriesText(series)}`));
    chart.append(
      svg(
        "desc",
        { id: "drivers-svg-desc" },
        `${rows.length} weeks. Each bar stacks the recent level, seasonality and activity contributions; ` +
          "they add up to the point forecast, marked with a diamond. The table above holds the same numbers.",
      ),
    );

    const grid = svg("g", { class: "wf-grid" });
    const digits = step < 1 ? 1 : 0;
    for (let t = lo; t <= hi + step / 2; t += step) {
      const tick = Math.abs(t) < step / 1e6 ? 0 : t;
      const tx = x(tick);
      grid.append(svg("line", { x1: tx, x2: tx, y1: plotTop, y2: plotBottom, class: tick === 0 ? "wf-zero" : "wf-gridline" }));
      grid.append(svg("text", { x: tx, y: plotBottom + 16, class: "wf-tick", "text-anchor": "middle" }, tick.toFixed(digits)));
    }
    grid.append(svg("line", { x1: x0, x2: x1, y1: plotBottom, y2: plotBottom, class: "wf-axis" }));
    grid.append(svg("text", { x: (x0 + x1) / 2, y: plotBottom + 36, class: "wf-axis-title", "text-anchor": "middle" }, "units sold"));
    chart.append(grid);

    const bars = svg("g", { class: "dr-bars" });
    rows.forEach((r, i) => {
      const y = plotTop + i * rowH;
      bars.append(svg("text", { x: labelW, y: y + rowH / 2 + 4, "text-anchor": "end", class: "wf-label" }, r.week));
      let pos = 0;
      let neg = 0;
      for (const [name, label] of DRIVERS) {
        const v = r.drivers[name];
        if (!isNumber(v) || v === 0) continue;
        const from = v >= 0 ? pos : neg + v;
        const to = v >= 0 ? pos + v : neg;
        if (v >= 0) pos += v;
        else neg += v;
        const rect = svg("rect", {
          x: x(from),
          y: y + (rowH - barH) / 2,
          width: Math.max(x(to) - x(from), 1),
          height: barH,
          class: `dr-seg dr-${name}`,
        });
        rect.append(svg("title", {}, `Week of ${r.week}: ${label} ${signedUnits(v)} units`));
        bars.append(rect);
      }
      if (isNumber(r.point)) {
        const px = x(r.point);
        const cy = y + rowH / 2;
        const diamond = svg("path", { d: `M ${px} ${cy - 6} L ${px + 5} ${cy} L ${px} ${cy + 6} L ${px - 5} ${cy} Z`, class: "dr-point" });
        diamond.append(svg("title", {}, `Week of ${r.week}: point forecast ${units(r.point)} units`));
        bars.append(diamond);
      }
      bars.append(svg("text", { x: x1 + 10, y: y + rowH / 2 + 4, class: "wf-value wf-value-strong" }, units(r.point)));
    });
    chart.append(bars);
  }

  function renderRecentWeeks(recent) {
    const body = $("f-recent").querySelector("tbody");
    clear(body);
    const weeks = recent && Array.isArray(recent.weeks) ? recent.weeks : [];
    show($("f-recent-empty"), weeks.length === 0);
    show($("f-recent-wrap"), weeks.length > 0);
    weeks.forEach((week, i) => {
      const pick = (name) => (Array.isArray(recent[name]) ? recent[name][i] : null);
      const actual = pick("actual");
      const point = pick("point");
      const [lo80, hi80, lo95, hi95] = ["lo80", "hi80", "lo95", "hi95"].map(pick);
      let verdict = "inside";
      if (isNumber(actual) && isNumber(lo95) && isNumber(hi95)) {
        if (actual > hi95) verdict = "above";
        else if (actual < lo95) verdict = "below";
      }
      const outside80 = isNumber(actual) && isNumber(lo80) && isNumber(hi80) && (actual < lo80 || actual > hi80);
      const verdictText = {
        above: "▲ above",
        below: "▼ below",
        inside: outside80 ? "inside (outside 80%)" : "✓ inside",
      }[verdict];
      const miss = isNumber(actual) && isNumber(point) ? actual - point : null;
      body.append(
        el(
          "tr",
          {
            className: verdict === "inside" ? "recent-inside" : "recent-outside",
            dataset: { week: String(week), outside95: String(verdict !== "inside") },
          },
          [
            el("th", { scope: "row" }, timeEl(week)),
            el("td", { className: "num point", text: units(actual) }),
            el("td", { className: "num", text: units(point) }),
            el("td", { className: "num", text: signedUnits(miss) }),
            el("td", { className: "num", text: unitRange(lo80, hi80) }),
            el("td", { className: "num muted-num", text: unitRange(lo95, hi95) }),
            el("td", {
              className: `verdict verdict-${verdict}`,
              title: verdict === "inside" ? "The actual fell inside its 95% interval" : `The actual fell ${verdict} its 95% interval`,
              text: verdictText,
            }),
          ],
        ),
      );
    });
  }

  function renderCovariates(weeks, planned, assumed) {
    const table = $("f-planned");
    const head = table.querySelector("thead tr");
    const body = table.querySelector("tbody");
    clear(head);
    clear(body);
    const names = Object.keys(planned);
    show($("f-planned-wrap"), names.length > 0);
    show($("f-planned-none"), names.length === 0);
    if (names.length) {
      head.append(el("th", { scope: "col", text: "Covariate" }));
      const columns = Math.max(weeks.length, ...names.map((n) => (Array.isArray(planned[n]) ? planned[n].length : 0)));
      for (let i = 0; i < columns; i += 1) {
        const label = weeks[i] ? weeks[i].week_start : `week ${i + 1}`;
        head.append(el("th", { scope: "col", className: "num", text: label }));
      }
      for (const name of names) {
        const values = Array.isArray(planned[name]) ? planned[name] : [];
        const cells = [];
        for (let i = 0; i < columns; i += 1) cells.push(el("td", { className: "num", text: valueText(values[i] ?? "—") }));
        body.append(
          el("tr", { dataset: { covariate: name } }, [
            el("th", { scope: "row" }, [el("span", { text: humanise(name) }), el("span", { className: "feature-name mono", text: name })]),
            ...cells,
          ]),
        );
      }
    }
    const note = $("f-assumed");
    clear(note);
    if (assumed.length) {
      note.append(el("strong", { text: "Assumed, not planned: " }));
      assumed.forEach((name, i) => {
        if (i) note.append(", ");
        note.append(el("span", { title: name, text: humanise(name) }));
      });
      note.append(el("span", { className: "muted", text: " — not given with the request, so taken to stay at their recent mean." }));
    } else {
      note.append(el("span", { className: "muted", text: "Every covariate the model uses for future weeks was planned with the request." }));
    }
  }

  // --- the forecast's decision form -------------------------------------------------------

  function chosenForecastDecision() {
    return $("f-decision-override").checked ? "override" : "confirm";
  }

  function syncForecastForm() {
    const override = chosenForecastDecision() === "override";
    $("f-comment").required = override;
    show($("f-comment-required"), override);
    $("f-comment").setAttribute("aria-required", String(override));
  }

  function resetForecastForm() {
    $("f-decision-confirm").checked = true;
    $("f-decision-override").checked = false;
    $("f-comment").value = "";
    $("f-comment").removeAttribute("aria-invalid");
    setMessage($("f-form-error"), "");
    setMessage($("f-form-success"), "");
    syncForecastForm();
  }

  async function submitForecastDecision(event) {
    event.preventDefault();
    const forecastId = state.selectedId;
    if (!forecastId) return;
    // a forecast has no grade: the body never carries one (the API refuses it with 422)
    const body = { decision: chosenForecastDecision(), comment: $("f-comment").value };
    $("f-comment").removeAttribute("aria-invalid");
    setMessage($("f-form-error"), "");
    setMessage($("f-form-success"), "");
    const button = $("f-submit-decision");
    button.disabled = true;
    button.textContent = "Submitting…";
    try {
      const result = await api(`/v1/reviews/${encodeURIComponent(forecastId)}`, { method: "POST", body });
      const d = result.decision || {};
      const what = d.decision === "override" ? "Override" : "Confirmation";
      await openForecast(forecastId, { keepForm: true });
      resetForecastForm();
      setMessage($("f-form-success"), `${what} recorded by ${d.decided_by || state.who.name}.`);
      await loadQueue();
    } catch (err) {
      if (handleAuthLoss(err)) return;
      setMessage($("f-form-error"), errorText(err));
      if ((err.details || []).some((detail) => detail && detail.field === "comment")) {
        $("f-comment").setAttribute("aria-invalid", "true");
        $("f-comment").focus();
      }
    } finally {
      button.disabled = false;
      button.textContent = "Submit decision";
    }
  }

  // --- wiring -----------------------------------------------------------------------------

  function init() {
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

    for (const id of ["decision-confirm", "decision-override"]) $(id).addEventListener("change", syncForm);
    $("decision-form").addEventListener("submit", submitDecision);
    syncForm();
    for (const id of ["f-decision-confirm", "f-decision-override"]) $(id).addEventListener("change", syncForecastForm);
    $("f-decision-form").addEventListener("submit", submitForecastDecision);
    syncForecastForm();

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

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
