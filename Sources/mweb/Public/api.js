// The HTTP API, as the app sees it: JSON in, JSON out, errors as ApiError
// (status, code, the server's message). A 401 from any call means the
// session is over; listeners of "m:unauthorized" show the sign-in screen.
export const base = "/api/v1";

/** An API error: `status` (HTTP), `code` (the API's error code) and the server's message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API with the session cookie; resolves to the JSON answer (null for 204). */
export async function call(method, path, body) {
  let res;
  try {
    res = await fetch(base + path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", "M cannot be reached: check the connection and try again");
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error?.code ?? "http", data?.error?.message ?? res.statusText);
    if (res.status === 401 && !(method === "POST" && path === "/session")) window.dispatchEvent(new CustomEvent("m:unauthorized", { detail: err }));
    throw err;
  }
  return data;
}

/** The WebSocket URL for an API path on this origin. */
export function socketURL(path, params = {}) {
  const url = new URL(base + path, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}
