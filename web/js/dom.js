// dom.js — building the page from data without ever parsing data as
// HTML: h() makes elements from a tag, attributes and children (strings
// become text nodes), so a subject or a sender name can never inject
// markup. Also small helpers for ids, dates and counts in plain words.

let nextId = 0;

// A unique element id for label/aria wiring.
export function uid(prefix = 'f') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// h('button', {class: 'primary', onclick: fn}, 'Save') → <button>.
// Attributes: `class`, `for`, `data-*`, `aria-*`, boolean attributes
// (true sets, false/null/undefined leaves out), `on*` event handlers,
// and `dataset`/`value`/`checked`/`selected`/`disabled` as properties.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' ||
                 k === 'indeterminate') {
        el[k] = v;
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// Replace the children of `el` with `children`.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const timeFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

// "12 Mar 2025, 14:05" (or "never" for null).
export function when(iso, never = 'never') {
  if (!iso) return never;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFmt.format(d);
}

export function day(iso, never = '—') {
  if (!iso) return never;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dayFmt.format(d);
}

// A message list's date: the time today, the date otherwise.
export function shortWhen(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dayFmt.format(d);
}

// Text from the server with its RFC 3339 times written for people.
export function humanText(s) {
  if (!s) return '';
  return String(s).replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g, (t) => when(t));
}

// A <time> element with the machine value and the readable one.
export function timeEl(iso, never = 'never') {
  return iso ? h('time', { datetime: iso }, when(iso)) : h('span', null, never);
}

const numFmt = new Intl.NumberFormat();
export function count(n, one, many) {
  const v = Number(n) || 0;
  return `${numFmt.format(v)} ${v === 1 ? one : (many || `${one}s`)}`;
}
export function num(n) {
  return numFmt.format(Number(n) || 0);
}

// "Adele Vance <adele@contoso.com>" for one address object.
export function person(a) {
  if (!a) return '';
  if (a.name && a.address && a.name !== a.address) return `${a.name} <${a.address}>`;
  return a.address || a.name || '';
}
export function people(list) {
  return (list || []).map(person).join(', ');
}
