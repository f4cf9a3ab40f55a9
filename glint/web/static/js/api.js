// The JSON API as the pages use it: the session cookie plus the page's CSRF token.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

/** The headers every cookie-authenticated API call carries. */
export function apiHeaders(extra = {}) {
  return { Accept: "application/json", "X-CSRF-Token": csrfToken(), ...extra };
}

/** Turn a non-2xx response body into an ApiError (API.md's error envelope). */
export function errorFrom(status, body) {
  const error = (body && body.error) || {};
  const message = error.message || `Something went wrong (${status}).`;
  return new ApiError(status, error.code || "error", message);
}

/** Call /api/v1{path}; resolves to the parsed JSON (null for 204), or throws ApiError. */
export async function api(method, path, json) {
  const init = { method, headers: apiHeaders(), credentials: "same-origin" };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (err) {
    throw new ApiError(0, "network", "You seem to be offline. Try again.");
  }
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, "unauthenticated", "Sign in first.");
  }
  if (response.status === 204) return null;
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) throw errorFrom(response.status, body);
  return body;
}

/** GET a page fragment; resolves to a <body> whose children are the new nodes. */
export async function fetchFragment(url) {
  const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (response.redirected && new URL(response.url).pathname === "/login") {
    window.location.assign(response.url); // signed out meanwhile: no login page inside the feed
    throw new ApiError(401, "unauthenticated", "Sign in first.");
  }
  if (!response.ok) throw new ApiError(response.status, "error", "Couldn't load more. Try again.");
  // DOMParser documents never run scripts; the server escaped every user text in them.
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  return doc.body;
}
