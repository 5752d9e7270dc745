/* The Candor API: JSON over fetch with the signed-in key as a bearer token, and its error
 * envelope ({"error": {code, message, details}}) as an ApiError. */

import { state } from "./state.js";

// the API lives beside the page: /review -> /v1/..., /prefix/review -> /prefix/v1/...
const API_BASE = window.location.pathname.replace(/\/review\/?$/, "");

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
  }
}

export async function api(path, { method = "GET", body, key = state.key } = {}) {
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

export function errorText(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  const prefix = err.status === 401 ? "Not signed in: " : err.status === 403 ? "Not allowed: " : "";
  return prefix + err.message;
}

let authLost = () => {};

/** What to do when the key stops working mid-session (main.js: sign out). */
export function onAuthLoss(handler) {
  authLost = handler;
}

// a key that stops working mid-session (revoked, expired) sends the reviewer back to sign in
export function handleAuthLoss(err) {
  if (err instanceof ApiError && err.status === 401) {
    authLost(`Your key was refused: ${err.message}`);
    return true;
  }
  return false;
}
