/* The review codes and their words, as GET /v1/reviews/codes gives them: the page keeps no
 * list of its own, so a code the policy adds shows with its name at once. */

import { api } from "./api.js";
import { clear, el } from "./dom.js";
import { humanise } from "./format.js";

let byCode = new Map();

/** Fetch the codes with this key; a key that may not review is refused here (403). */
export async function loadReviewCodes(key) {
  const codes = await api("/v1/reviews/codes", { key });
  byCode = new Map(codes.map((entry) => [entry.code, entry]));
}

/** The codes that can flag records of this kind, in the policy's order. */
export function codesFor(kind) {
  return [...byCode.values()].filter((entry) => entry.kind === kind);
}

function reasonLabel(code) {
  const entry = byCode.get(code);
  return entry ? entry.short_label : humanise(code);
}

export function reasonChip(code) {
  const entry = byCode.get(code);
  return el("li", {
    className: `chip chip-${code}`,
    title: entry ? entry.description : code,
    dataset: { reason: code },
    text: reasonLabel(code),
  });
}

/** Why a record needs review: a chip per code and, as notes, what each code means beside the
 * policy's own notes (which carry the numbers: which week, how wide). */
export function renderReviewReasons(reasons, notes, review, { policyNotesFirst = false } = {}) {
  clear(reasons);
  clear(notes);
  const codes = review && Array.isArray(review.reasons) ? review.reasons : [];
  if (codes.length === 0) reasons.append(el("li", { className: "chip chip-none", text: "Not flagged" }));
  for (const code of codes) reasons.append(reasonChip(code));
  const policyNotes = ((review && review.notes) || []).map((note) => el("li", { text: note }));
  const meanings = codes
    .filter((code) => byCode.has(code))
    .map((code) => el("li", { className: "muted", text: `${reasonLabel(code)}: ${byCode.get(code).description}` }));
  notes.append(...(policyNotesFirst ? [...policyNotes, ...meanings] : [...meanings, ...policyNotes]));
}
