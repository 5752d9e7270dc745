/* What the page holds between events: the signed-in key, the queue's filters and rows, and
 * which record is open. The tokens let a newer request win over a slower older one. */

export const state = {
  key: null,
  who: null,
  kind: "score", // "score" or "forecast": the queue, its filters and the detail all follow
  status: "pending",
  reason: "",
  items: [],
  nextCursor: null,
  selectedId: null,
  queueToken: 0,
  detailToken: 0,
};
