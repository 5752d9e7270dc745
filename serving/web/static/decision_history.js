/* A record's decisions, oldest first; the last one stands. */

import { gradeBadge } from "./badges.js";
import { timeEl } from "./dates.js";
import { clear, el } from "./dom.js";

export function renderHistory(list, decisions, emptyText) {
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

/** The decision that stands (the latest), or null. */
export function standingDecision(decisions) {
  return decisions.length ? decisions[decisions.length - 1] : null;
}
