/* Timestamps and calendar days as <time> elements in the reader's locale (the ISO text kept as
 * the title and datetime). */

import { el } from "./dom.js";

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

export function timeEl(iso) {
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

export function stackedTimeEl(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return timeEl(iso);
  const day = (date.getFullYear() === thisYear ? dayPart.short : dayPart.year).format(date);
  return el("time", { datetime: iso, title: iso, className: "stacked" }, [
    el("span", { className: "day", text: day }),
    el("span", { className: "clock", text: clockPart.format(date) }),
  ]);
}
