/* Small inline pieces that the queue and both detail views show: a grade, a forecast's series. */

import { el } from "./dom.js";
import { humanise, valueText } from "./format.js";

export function gradeBadge(grade, extraClass = "") {
  return el("span", {
    className: `grade grade-${grade || "none"} ${extraClass}`.trim(),
    title: grade ? `Grade ${grade}` : "No grade",
    text: grade || "–",
  });
}

/** A series ({territory: "North", product: "X"}) as its parts, "Territory North / Product X". */
export function seriesNode(series, className = "series-parts") {
  const entries = Object.entries(series || {});
  if (!entries.length) return el("span", { className: "muted", text: "—" });
  const node = el("span", { className });
  entries.forEach(([field, value], i) => {
    if (i) node.append(el("span", { className: "series-sep", "aria-hidden": "true", text: " / " }));
    node.append(
      el("span", { className: "series-part", title: humanise(field) }, [
        el("span", { className: "series-field", text: `${humanise(field)} ` }),
        el("span", { className: "series-value", text: valueText(value) }),
      ]),
    );
  });
  return node;
}
