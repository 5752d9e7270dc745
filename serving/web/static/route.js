/* The URL fragment names the open record, so that a link opens it: /review#<score_id> a lead
 * score, /review#forecast/<forecast_id> a forecast. */

const FORECAST_HASH = /^forecast\/(.+)$/;

/** The record the fragment names ({kind, id}), or null: none, or one that is not valid
 * percent-encoding (/review#%E0), which opens nothing rather than breaking the page. */
export function wantedFromHash() {
  let raw;
  try {
    raw = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  } catch {
    return null;
  }
  if (!raw) return null;
  const forecast = FORECAST_HASH.exec(raw);
  return forecast ? { kind: "forecast", id: forecast[1] } : { kind: "score", id: raw };
}

/** Name this record in the fragment (replacing the history entry, not adding one). */
export function showInHash(kind, id) {
  const encoded = encodeURIComponent(id);
  history.replaceState(null, "", kind === "forecast" ? `#forecast/${encoded}` : `#${encoded}`);
}

export function clearHash() {
  history.replaceState(null, "", window.location.pathname + window.location.search);
}
