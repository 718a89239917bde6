// main.js — the web UI's entry: who is signed in (GET /api/v1/me), the
// header (navigation, the profile menu with My Account and Sign out),
// and the hash router that hands <main> to one page at a time. Pages are
// modules with render(main, params, app) returning an optional cleanup.

import { get, del, setCsrf, onSignedOut } from './api.js';
import { h, fill } from './dom.js';
import * as feed from './feed.js';
import { announce } from './ui.js';
import * as signin from './pages/signin.js';
import * as accounts from './pages/accounts.js';
import * as create from './pages/create.js';
import * as account from './pages/account.js';
import * as myaccount from './pages/myaccount.js';
import * as provider from './pages/provider.js';
import * as users from './pages/users.js';

// Routes: pattern → page; `:name` captures a segment.
const ROUTES = [
  ['/signin', signin, { public: true }],
  ['/accounts', accounts],
  ['/accounts/new', create],
  ['/accounts/:id', account],
  ['/accounts/:id/:tab', account],
  ['/my-account', myaccount],
  ['/admin/provider', provider, { admin: true }],
  ['/admin/users', users, { admin: true }],
];

const app = {
  me: null,
  isAdmin: false,
  navigate(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  },
  async signedIn() {
    await loadMe();
    const back = sessionStorage.getItem('inboxsync.after') || '#/accounts';
    sessionStorage.removeItem('inboxsync.after');
    app.navigate(back.startsWith('#/signin') ? '#/accounts' : back);
  },
  async signOut() {
    try {
      await del('/session', { quiet401: true });
    } catch {
      /* signed out either way */
    }
    setCsrf(null);
    feed.reset();
    app.me = null;
    app.isAdmin = false;
    header();
    app.navigate('#/signin');
  },
  // The provider as a mailbox owner may know it: {enabled, transports,
  // known}. Known only to administrators unless /me tells it.
  async providerInfo() {
    if (app.me && app.me.provider) return { known: true, ...app.me.provider };
    if (app.isAdmin) {
      try {
        const p = await get('/provider');
        return { known: true, enabled: !!p.enabled, transports: p.transports || [], configured: !!p.client_id, problem: p.problem };
      } catch {
        return { known: false };
      }
    }
    return { known: false };
  },
};

let cleanup = null;
let closeMenu = () => {};

document.addEventListener('click', (e) => {
  if (!document.getElementById('profile').contains(e.target)) closeMenu();
});

async function loadMe() {
  try {
    app.me = await get('/me', { quiet401: true });
    app.isAdmin = !!app.me.admin;
    if (app.me.csrf_token) setCsrf(app.me.csrf_token);
  } catch {
    app.me = null;
    app.isAdmin = false;
  }
  header();
}

function navLink(hash, label) {
  const current = location.hash === hash || location.hash.startsWith(`${hash}/`);
  return h('a', { href: hash, 'aria-current': current ? 'page' : null }, label);
}

function header() {
  const nav = document.getElementById('nav');
  const profile = document.getElementById('profile');
  if (!app.me) {
    nav.hidden = true;
    fill(nav);
    fill(profile);
    return;
  }
  nav.hidden = false;
  fill(nav, h('ul', null,
    h('li', null, navLink('#/accounts', 'Mailbox Accounts')),
    app.isAdmin ? h('li', null, navLink('#/admin/provider', 'Provider settings')) : null,
    app.isAdmin ? h('li', null, navLink('#/admin/users', 'Users')) : null));
  const menuId = 'profile-menu';
  const button = h('button', { type: 'button', class: 'profile-button', 'aria-haspopup': 'true',
    'aria-expanded': 'false', 'aria-controls': menuId },
  h('span', { class: 'avatar', 'aria-hidden': 'true' }, (app.me.username || '?').slice(0, 1).toUpperCase()),
  h('span', { class: 'profile-name' }, app.me.username));
  const menu = h('ul', { id: menuId, class: 'menu', hidden: true },
    h('li', null, h('a', { href: '#/my-account' }, 'My Account')),
    h('li', null, h('button', { type: 'button', onclick: () => app.signOut() }, 'Sign out')));
  const close = () => {
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  };
  button.addEventListener('click', () => {
    const open = menu.hidden;
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) menu.querySelector('a').focus();
  });
  menu.addEventListener('click', close);
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      close();
      button.focus();
    }
  });
  closeMenu = close;
  fill(profile, button, menu);
}

function match(path) {
  for (const [pattern, page, opts] of ROUTES) {
    const p = pattern.split('/');
    const s = path.split('/');
    if (p.length !== s.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < p.length; i++) {
      if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
      else if (p[i] !== s[i]) ok = false;
    }
    if (ok) return { page, params, opts: opts || {} };
  }
  return null;
}

// The route of the current hash: "#/accounts/12/folders?x=1".
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/accounts';
  const [path, query] = raw.split('?');
  return { path: path.replace(/\/+$/, '') || '/accounts', query: new URLSearchParams(query || '') };
}

async function render() {
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      console.error(e);
    }
    cleanup = null;
  }
  const main = document.getElementById('main');
  const { path, query } = parseHash();
  const m = match(path);
  header();
  if (!m) {
    fill(main, h('section', { class: 'panel' }, h('h1', null, 'Page not found'),
      h('p', null, 'There is nothing at this address. '), h('a', { href: '#/accounts' }, 'Open Mailbox Accounts')));
    return;
  }
  if (!m.opts.public && !app.me) {
    sessionStorage.setItem('inboxsync.after', location.hash || '#/accounts');
    app.navigate('#/signin');
    return;
  }
  if (m.opts.admin && !app.isAdmin) {
    fill(main, h('section', { class: 'panel' }, h('h1', null, 'For administrators'),
      h('p', null, 'Only an inboxsync administrator can open this page.')));
    return;
  }
  fill(main);
  main.setAttribute('data-page', path.split('/')[1] || '');
  try {
    cleanup = (await m.page.render(main, { ...m.params, query }, app)) || null;
  } catch (e) {
    console.error(e);
    fill(main, h('section', { class: 'panel' }, h('h1', null, 'This page could not be shown'),
      h('p', null, e.message || String(e))));
  }
}

// After Microsoft, /oauth/callback may send the browser to "/?account=ID".
function routeFromQuery() {
  const q = new URLSearchParams(location.search);
  const id = q.get('account') || q.get('account_id');
  if (id && !location.hash) {
    history.replaceState(null, '', `/#/accounts/${encodeURIComponent(id)}`);
  }
}

onSignedOut(() => {
  if (!app.me) return;
  app.me = null;
  app.isAdmin = false;
  feed.reset();
  setCsrf(null);
  sessionStorage.setItem('inboxsync.after', location.hash || '#/accounts');
  announce('Your session has ended. Please sign in again.', true);
  app.navigate('#/signin');
});

window.addEventListener('hashchange', render);
routeFromQuery();
loadMe().then(render);
