/* The decision on a flagged record: its history and ONE form for both kinds. A score is
 * confirmed, or overridden with the grade that should stand and a comment; a forecast has no
 * grade, so it is confirmed, or overridden (not to be used as it is) with a comment. */

import { api, errorText, handleAuthLoss } from "./api.js";
import { renderHistory } from "./decision_history.js";
import { el, setMessage, show } from "./dom.js";
import { state } from "./state.js";

const GRADES = ["A", "B", "C", "D"];

// what differs between the kinds; ids and test ids keep each kind's prefix
const BY_KIND = {
  score: {
    idPrefix: "",
    testidPrefix: "",
    confirm: "Confirm the model's grade",
    override: "Override the grade",
    withGrade: true,
    rule: "An override needs a grade and a comment saying why. A confirmation may have a comment.",
    noDecision: "No decision yet: the model's grade stands unreviewed.",
    recorded: (d) => (d.decision === "override" ? `Override to grade ${d.grade}` : "Confirmation"),
  },
  forecast: {
    idPrefix: "f-",
    testidPrefix: "forecast-",
    confirm: "Confirm: the forecast may be used as it is",
    override: "Override: it should not be used as it is",
    withGrade: false,
    withReplacement: true,
    rule:
      "A forecast has no grade to change: an override needs a comment saying why it should not " +
      "be used as it is. A confirmation may have a comment.",
    noDecision: "No decision yet: the forecast stands unreviewed.",
    recorded: (d) => (d.decision === "override" ? "Override" : "Confirmation"),
  },
};

function radio(spec, value, label, checked) {
  return el("label", { className: "radio" }, [
    el("input", {
      type: "radio",
      name: `${spec.idPrefix}decision`,
      id: `${spec.idPrefix}decision-${value}`,
      value,
      checked,
      dataset: { testid: `${spec.testidPrefix}decision-${value}` },
    }),
    el("span", {}, label),
  ]);
}

function buildSection(spec) {
  const ruleId = `${spec.idPrefix}override-rule`;
  // a score's confirmation names the grade it keeps
  const confirmGrade = spec.withGrade ? el("span", { id: "confirm-grade", className: "muted" }) : null;
  const nodes = {
    confirmGrade,
    history: el("ol", {
      id: `${spec.idPrefix}decision-history`,
      className: "history",
      dataset: { testid: `${spec.testidPrefix}decision-history` },
      "aria-label": "Decision history, oldest first",
    }),
    confirm: radio(spec, "confirm", confirmGrade ? [spec.confirm, " ", confirmGrade] : spec.confirm, true),
    override: radio(spec, "override", spec.override, false),
    grade: spec.withGrade
      ? el(
          "select",
          { id: "override-grade", name: "grade", disabled: true, "aria-describedby": ruleId, dataset: { testid: "override-grade" } },
          [el("option", { value: "", selected: true, text: "Choose a grade" }), ...GRADES.map((g) => el("option", { value: g, text: g }))],
        )
      : null,
    replacement: spec.withReplacement
      ? el("input", {
          id: `${spec.idPrefix}replacement`,
          name: "replacement",
          type: "text",
          inputmode: "decimal",
          disabled: true,
          "aria-describedby": `${spec.idPrefix}replacement-hint`,
          dataset: { testid: `${spec.testidPrefix}replacement` },
        })
      : null,
    required: el("span", { id: `${spec.idPrefix}comment-required`, className: "required", hidden: true, text: "(required)" }),
    comment: el("textarea", {
      id: `${spec.idPrefix}comment`,
      name: "comment",
      rows: 3,
      maxlength: 2000,
      "aria-describedby": ruleId,
      dataset: { testid: `${spec.testidPrefix}comment` },
    }),
    error: el("p", { id: `${spec.idPrefix}form-error`, className: "error", role: "alert", hidden: true, dataset: { testid: `${spec.testidPrefix}form-error` } }),
    success: el("p", { id: `${spec.idPrefix}form-success`, className: "success", role: "status", hidden: true, dataset: { testid: `${spec.testidPrefix}form-success` } }),
    submit: el("button", {
      type: "submit",
      id: `${spec.idPrefix}submit-decision`,
      className: "button button-primary",
      dataset: { testid: `${spec.testidPrefix}submit-decision` },
      text: "Submit decision",
    }),
  };
  nodes.form = el("form", { id: `${spec.idPrefix}decision-form`, className: "decision-form", novalidate: true, dataset: { testid: `${spec.testidPrefix}decision-form` } }, [
    el("fieldset", {}, [
      el("legend", { text: "Record your decision" }),
      el("div", { className: "radio-row" }, [nodes.confirm, nodes.override]),
      nodes.grade
        ? el("div", { className: "field field-inline" }, [el("label", { for: "override-grade", text: "Grade that should stand" }), nodes.grade])
        : null,
      nodes.replacement
        ? el("div", { className: "field" }, [
            el("label", { for: nodes.replacement.id, text: "Units you expect instead (optional)" }),
            nodes.replacement,
            el("p", {
              id: `${spec.idPrefix}replacement-hint`,
              className: "hint",
              text:
                "One number per forecast week, separated by commas. Once actuals are recorded, " +
                "the forecast accuracy report measures whether the override did better than the forecast.",
            }),
          ])
        : null,
      el("div", { className: "field" }, [
        el("label", { for: nodes.comment.id }, ["Comment ", nodes.required]),
        nodes.comment,
        el("p", { id: ruleId, className: "hint", text: spec.rule }),
      ]),
      nodes.error,
      nodes.success,
      el("div", { className: "actions" }, nodes.submit),
    ]),
  ]);
  const title = `${spec.idPrefix}decision-title`;
  nodes.section = [el("h3", { id: title, text: "Decision" }), nodes.history, nodes.form];
  nodes.title = title;
  return nodes;
}

/**
 * Build the decision section of `kind` into `mount` and return its controls.
 * `reopen(id)` renders the record again with the decision just recorded (the form kept);
 * `afterRecorded()` then refreshes what else shows it (the queue).
 */
export function createDecisionForm(kind, { mount, reopen, afterRecorded }) {
  const spec = BY_KIND[kind];
  const nodes = buildSection(spec);
  mount.setAttribute("aria-labelledby", nodes.title);
  mount.replaceChildren(...nodes.section);
  const confirmInput = nodes.confirm.querySelector("input");
  const overrideInput = nodes.override.querySelector("input");
  // which control a field named in an API error stands for
  const fields = { grade: nodes.grade, comment: nodes.comment, decision: overrideInput, replacement: nodes.replacement };

  const chosen = () => (overrideInput.checked ? "override" : "confirm");

  function sync() {
    const override = chosen() === "override";
    if (nodes.grade) {
      nodes.grade.disabled = !override;
      nodes.grade.required = override;
      if (!override) nodes.grade.value = "";
    }
    if (nodes.replacement) {
      nodes.replacement.disabled = !override;
      if (!override) nodes.replacement.value = "";
    }
    nodes.comment.required = override;
    show(nodes.required, override);
    nodes.comment.setAttribute("aria-required", String(override));
  }

  function clearFieldErrors() {
    for (const node of [nodes.grade, nodes.comment, nodes.replacement, confirmInput, overrideInput]) node?.removeAttribute("aria-invalid");
  }

  function reset() {
    confirmInput.checked = true;
    overrideInput.checked = false;
    nodes.comment.value = "";
    if (nodes.grade) nodes.grade.value = "";
    if (nodes.replacement) nodes.replacement.value = "";
    clearFieldErrors();
    setMessage(nodes.error, "");
    setMessage(nodes.success, "");
    sync();
  }

  async function submit(event) {
    event.preventDefault();
    const id = state.selectedId;
    if (!id) return;
    const decision = chosen();
    const body = { decision, comment: nodes.comment.value };
    // the API is the one judge of what a decision needs; it names the field that is wrong.
    // A forecast's body never carries a grade (the API refuses one with 422).
    if (nodes.grade && decision === "override" && nodes.grade.value) body.grade = nodes.grade.value;
    // replacement units as typed: a value that is not a number is sent as it is, for the API
    // to refuse by its position (replacement[2])
    const typed = nodes.replacement && decision === "override" ? nodes.replacement.value.trim() : "";
    if (typed) body.replacement = typed.split(/[,\s]+/).filter(Boolean).map((v) => (Number.isFinite(Number(v)) ? Number(v) : v));
    clearFieldErrors();
    setMessage(nodes.error, "");
    setMessage(nodes.success, "");
    nodes.submit.disabled = true;
    nodes.submit.textContent = "Submitting…";
    try {
      const result = await api(`/v1/reviews/${encodeURIComponent(id)}`, { method: "POST", body });
      const d = result.decision || {};
      await reopen(id);
      reset();
      setMessage(nodes.success, `${spec.recorded(d)} recorded by ${d.decided_by || state.who.name}.`);
      await afterRecorded();
    } catch (err) {
      if (handleAuthLoss(err)) return;
      setMessage(nodes.error, errorText(err));
      let focused = false;
      for (const detail of err.details || []) {
        const named = detail && typeof detail.field === "string" ? detail.field : "";
        const node = fields[named] || fields[named.split(/[[.]/)[0]];
        if (!node) continue;
        node.setAttribute("aria-invalid", "true");
        if (!focused && !node.disabled) {
          node.focus();
          focused = true;
        }
      }
    } finally {
      nodes.submit.disabled = false;
      nodes.submit.textContent = "Submit decision";
    }
  }

  for (const input of [confirmInput, overrideInput]) input.addEventListener("change", sync);
  nodes.form.addEventListener("submit", submit);
  sync();

  return {
    /** Show this record's decisions; a fresh record also gets a fresh form. */
    show(record, { keepForm = false } = {}) {
      renderHistory(nodes.history, record.decisions || [], spec.noDecision);
      if (nodes.confirmGrade) nodes.confirmGrade.textContent = record.grade ? `(${record.grade})` : "";
      if (!keepForm) reset();
    },
  };
}
