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
  };
  const REASON_HELP = {
    low_confidence: "The confidence interval is wide: few similar leads were seen in calibration.",
    out_of_distribution: "Some inputs are missing or unlike anything seen in training.",
    near_grade_boundary: "The score is close to a grade cut-off; a small change would move the grade.",
    random_audit: "Drawn at random so that reviewers also see scores no rule flagged.",
  };

  const state = {
    key: null,
    who: null,
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
    if (decision.decision === "override") return `Override → ${decision.grade || "?"}`;
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
      await loadQueue();
      const wanted = decodeURIComponent(window.location.hash.replace(/^#/, ""));
      if (wanted) openDetail(wanted);
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
      body.append(el("tr", { className: "empty-row" }, el("td", { colspan: 6, text: empty })));
    }
    for (const item of state.items) body.append(queueRow(item));
    const more = state.nextCursor ? " (more available)" : "";
    const noun = state.items.length === 1 ? "score" : "scores";
    $("queue-status").textContent = `${state.items.length} ${noun} ${state.status}${more}`;
    show($("load-more"), Boolean(state.nextCursor));
  }

  function queueRow(item) {
    const reasons = el("ul", { className: "chips chips-compact" });
    for (const code of item.review_reasons || []) reasons.append(reasonChip(code));
    const decision = item.latest_decision;
    const decisionCell = el("td", { className: decision ? `decided decided-${decision.decision}` : "pending" });
    decisionCell.append(el("span", { text: decisionSummary(decision) }));
    if (decision) decisionCell.append(el("span", { className: "by", text: decision.decided_by }));
    const model = item.model || {};
    const row = el(
      "tr",
      {
        tabindex: 0,
        className: "queue-row",
        dataset: { scoreId: item.score_id, testid: "queue-row" },
      },
      [
        el("td", {}, stackedTimeEl(item.created_at)),
        el("td", {}, gradeBadge(item.grade)),
        el("td", { className: "num", text: pct(item.score) }),
        el("td", {}, reasons),
        el("td", { className: "model", title: `${model.name || ""} version ${model.version || ""}`, text: `v${model.version || "?"}` }),
        decisionCell,
      ],
    );
    if (item.score_id === state.selectedId) row.setAttribute("aria-current", "true");
    return row;
  }

  function rowFromEvent(event) {
    const row = event.target.closest("tr[data-score-id]");
    return row && $("queue-body").contains(row) ? row : null;
  }

  // --- one score in detail ----------------------------------------------------------------

  function resetDetail() {
    show($("detail-empty"), true);
    show($("detail-body"), false);
    setMessage($("detail-error"), "");
  }

  function markSelected() {
    for (const row of $("queue-body").querySelectorAll("tr[data-score-id]")) {
      if (row.dataset.scoreId === state.selectedId) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
  }

  async function openDetail(scoreId, { keepForm = false } = {}) {
    const token = ++state.detailToken;
    state.selectedId = scoreId;
    markSelected();
    setMessage($("detail-error"), "");
    $("detail").setAttribute("aria-busy", "true");
    try {
      const record = await api(`/v1/scores/${encodeURIComponent(scoreId)}`);
      if (token !== state.detailToken) return;
      state.detail = record;
      history.replaceState(null, "", `#${encodeURIComponent(scoreId)}`);
      renderDetail(record, { keepForm });
    } catch (err) {
      if (token !== state.detailToken || handleAuthLoss(err)) return;
      show($("detail-empty"), false);
      show($("detail-body"), false);
      setMessage($("detail-error"), errorText(err));
    } finally {
      if (token === state.detailToken) $("detail").removeAttribute("aria-busy");
    }
  }

  function renderDetail(record, { keepForm }) {
    show($("detail-empty"), false);
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
    renderHistory(decisions);
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

  function renderHistory(decisions) {
    const list = $("decision-history");
    clear(list);
    if (decisions.length === 0) {
      list.append(el("li", { className: "history-empty muted", text: "No decision yet: the model's grade stands unreviewed." }));
      return;
    }
    decisions.forEach((d, i) => {
      const last = i === decisions.length - 1;
      const head = el("div", { className: "history-head" }, [
        el("strong", { text: d.decision === "override" ? "Override" : "Confirm" }),
        d.decision === "override" ? el("span", {}, [" to ", gradeBadge(d.grade)]) : null,
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
      if (row) openDetail(row.dataset.scoreId);
    });
    $("queue-body").addEventListener("keydown", (event) => {
      const row = rowFromEvent(event);
      if (!row) return;
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openDetail(row.dataset.scoreId);
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const next = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
        if (next && next.matches("tr[data-score-id]")) next.focus();
      }
    });

    for (const id of ["decision-confirm", "decision-override"]) $(id).addEventListener("change", syncForm);
    $("decision-form").addEventListener("submit", submitDecision);
    syncForm();

    // a pasted link to one score (/review#<score_id>) opens it
    window.addEventListener("hashchange", () => {
      const wanted = decodeURIComponent(window.location.hash.replace(/^#/, ""));
      if (state.key && wanted && wanted !== state.selectedId) openDetail(wanted);
    });

    const saved = sessionStorage.getItem(KEY_STORAGE);
    if (saved) signIn(saved, { silent: true });
    else $("api-key").focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
