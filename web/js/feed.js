// feed.js — the change feed (GET /api/v1/changes) long-polled while a
// page wants to hear about changes. Subscribers get each EVENT; pages use
// the events as "this changed" signals and re-read what they show, so a
// missed or repeated event never shows anything wrong. The last seq seen
// is kept for the tab, so a reload does not replay old events.

import { get, ApiError } from './api.js';

const SINCE_KEY = 'inboxsync.since';
const subscribers = new Set();
let running = false;
let controller = null;
let backoff = 1000;

function since() {
  return Number(sessionStorage.getItem(SINCE_KEY)) || 0;
}

async function loop() {
  while (running && subscribers.size) {
    controller = new AbortController();
    try {
      const r = await get(`/changes?since=${since()}&limit=1000&wait=25`, { signal: controller.signal });
      backoff = 1000;
      if (r && r.next_since !== undefined && r.next_since !== null)
        sessionStorage.setItem(SINCE_KEY, String(r.next_since));
      for (const ev of (r && r.changes) || [])
        for (const fn of [...subscribers]) {
          try {
            fn(ev);
          } catch (e) {
            console.error(e);
          }
        }
    } catch (e) {
      if (e.name === 'AbortError' || !running) break;
      if (e instanceof ApiError && e.status === 401) break;
      await new Promise((res) => setTimeout(res, backoff));
      backoff = Math.min(backoff * 2, 30000);
    }
  }
  running = false;
}

// Hear every event until the returned function is called.
export function subscribe(fn) {
  subscribers.add(fn);
  if (!running) {
    running = true;
    loop();
  }
  return () => {
    subscribers.delete(fn);
    if (!subscribers.size) stop();
  };
}

export function stop() {
  running = false;
  if (controller) controller.abort();
}

export function reset() {
  stop();
  subscribers.clear();
  sessionStorage.removeItem(SINCE_KEY);
}

// Call fn at most once per `ms`, after the last of a burst.
export function debounce(fn, ms) {
  let t = 0;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
