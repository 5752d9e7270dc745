/* Numbers and names as a reviewer reads them: probabilities as percents, log-odds and units
 * with their sign, field names in words. Text only; "—" stands for a missing number. */

export const isNumber = (x) => typeof x === "number" && Number.isFinite(x);

export function pct(p, digits = 1) {
  return isNumber(p) ? `${(p * 100).toFixed(digits)}%` : "—";
}

export function intervalText(interval) {
  if (!Array.isArray(interval) || interval.length !== 2) return "—";
  const [lo, hi] = interval;
  // whole percents read best; show a decimal only where rounding would hide the width
  const digits = pct(lo, 0) === pct(hi, 0) ? 1 : 0;
  return `${pct(lo, digits)}–${pct(hi, digits)}`;
}

/** A log-odds contribution with its sign. */
export function signed(x, digits = 2) {
  if (!isNumber(x)) return "—";
  if (x === 0) return (0).toFixed(digits);
  // a tiny but real contribution keeps its sign and a digit that shows it is not zero
  const places = Math.abs(x) < 0.5 * 10 ** -digits ? digits + 1 : digits;
  return (x > 0 ? "+" : "-") + Math.abs(x).toFixed(places);
}

export function arrow(x) {
  if (!isNumber(x) || x === 0) return "";
  return x > 0 ? "▲" : "▼";
}

/** "up", "down" or "flat": the class suffix of an effect's colour. */
export function direction(x) {
  return isNumber(x) ? (x > 0 ? "up" : x < 0 ? "down" : "flat") : "flat";
}

export function humanise(name) {
  const words = String(name).replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function valueText(value) {
  if (value === null || value === undefined) return "not recorded";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

const unitFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Units sold, to one decimal. */
export function units(x) {
  return isNumber(x) ? unitFormat.format(x) : "—";
}

export function signedUnits(x) {
  if (!isNumber(x)) return "—";
  const text = unitFormat.format(Math.abs(x));
  if (text === unitFormat.format(0)) return text;
  return (x > 0 ? "+" : "−") + text;
}

export function unitRange(lo, hi) {
  return isNumber(lo) && isNumber(hi) ? `${units(lo)} – ${units(hi)}` : "—";
}

/** A forecast's series ({territory: "North", product: "X"}) as one line of text. */
export function seriesText(series) {
  return Object.entries(series || {})
    .map(([field, value]) => `${humanise(field)} ${valueText(value)}`)
    .join(" / ");
}
