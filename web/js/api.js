// api.js — the REST API of INTERFACE.md as the web page calls it: JSON in
// and out, the session cookie sent by the browser, and the CSRF token
// (from POST /api/v1/session) on every POST, PUT, PATCH and DELETE. Every
// failure becomes an ApiError carrying the server's {code, message, fix,
// fix_code}, so pages show the cause and the fix, never raw JSON.

const CSRF_KEY = 'inboxsync.csrf';
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    super(e.message || `The server answered ${status}.`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'upstream_error');
    this.fix = e.fix || '';
    this.fixCode = e.fix_code || '';
    this.retryAfter = retryAfter;
  }
}

// The CSRF token of the cookie session, shared by the tabs of this
// browser (a bookmark opened in a new tab can act too).
export function setCsrf(token) {
  if (token) localStorage.setItem(CSRF_KEY, token);
  else localStorage.removeItem(CSRF_KEY);
}

// Called with the ApiError whenever the session is gone (401).
export function onSignedOut(fn) {
  listeners.add(fn);
}

// One API call. `path` is under /api/v1. Resolves to the parsed JSON (or
// null for 204); rejects with ApiError. `opts.signal` aborts, `opts.headers`
// adds headers, `opts.quiet401` keeps a 401 from signing the page out.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = localStorage.getItem(CSRF_KEY);
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let r;
  try {
    r = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { error: { code: 'network', message: 'The inboxsync server cannot be reached.',
      fix: 'Check that the server is running and your network is up, then try again.' } });
  }
  let data = null;
  const text = r.status === 204 ? '' : await r.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!r.ok) {
    const err = new ApiError(r.status, data, Number(r.headers.get('Retry-After')) || 0);
    // 401, or a session whose CSRF token this browser lost: sign in again.
    const lostCsrf = r.status === 403 && /X-CSRF-Token/.test(err.message);
    if ((r.status === 401 && !opts.quiet401) || lostCsrf) for (const fn of listeners) fn(err);
    throw err;
  }
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b = {}, o) => api('POST', p, b, o);
export const put = (p, b, o) => api('PUT', p, b, o);
export const patch = (p, b, o) => api('PATCH', p, b, o);
export const del = (p, o) => api('DELETE', p, undefined, o);

// Path segment encoding for ids and names.
export const seg = (s) => encodeURIComponent(String(s));
