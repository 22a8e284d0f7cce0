// The inbox's REST client: JSON in and out, the CSRF token on every state change, errors as exceptions.
import { t } from "./i18n.js";

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function setCsrf(token) {
  csrfToken = token;
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(`/inbox/api${path}`, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answer(response);
}

// A file as multipart/form-data (the contacts CSV), with the CSRF token; the browser sets the boundary.
export async function upload(path, form) {
  const headers = { Accept: "application/json" };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  return answer(await fetch(`/inbox/api${path}`, { method: "POST", headers, credentials: "same-origin", body: form }));
}

async function answer(response) {
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    // A refusal is {"detail": "why"}; a 422 is FastAPI's list of {loc, msg}: its messages are the reason.
    const listed = data && Array.isArray(data.detail) ? data.detail.map((item) => item && item.msg).filter(Boolean) : [];
    const detail = data && typeof data.detail === "string" ? data.detail
      : listed.length ? listed.join("; ") : t("error.http", { status: String(response.status) });
    // A session that ended is said in the agent's language; a refusal's own reason stays the server's words.
    throw new ApiError(response.status, response.status === 401 && !response.url.endsWith("/api/login") ? t("error.loggedOut") : detail);
  }
  return data;
}
