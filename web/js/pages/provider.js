// provider.js — the administrator's provider settings: the Microsoft app
// registration (client ID, client secret write-only, tenant), the
// connection types to offer (Microsoft Graph, IMAP OAuth2), endpoint
// overrides for national clouds, the exact redirect URI to register, and
// Check, which runs the provider check and lists each result with its fix.

import { get, put, post } from '../api.js';
import { h, fill, day } from '../dom.js';
import { field, errorPanel, busyButton, announce, badge, problemPanel } from '../ui.js';

const DEFAULTS = {
  login_url: 'https://login.microsoftonline.com',
  graph_url: 'https://graph.microsoft.com/v1.0',
  imap: 'outlook.office365.com:993',
  smtp: 'smtp.office365.com:587',
};

const cap = (s) => (s ? s.charAt(0).toUpperCase() + s.slice(1) : '');

function input(name, value, attrs = {}) {
  return h('input', { type: 'text', name, value: value || '', spellcheck: 'false', autocapitalize: 'none', autocomplete: 'off', ...attrs });
}

function check(name, label, checked, hint) {
  const id = `pv-${name}`;
  return h('div', { class: 'checkbox' },
    h('input', { type: 'checkbox', id, name, checked: !!checked, 'aria-describedby': hint ? `${id}-hint` : null }),
    h('div', null, h('label', { for: id }, label), hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null));
}

export async function render(main, params, app) {
  let p;
  try {
    p = await get('/provider');
  } catch (e) {
    if (e.status !== 404 && e.code !== 'oauth_not_configured') {
      fill(main, h('h1', null, 'Provider settings'), errorPanel(e, {}));
      return null;
    }
    p = {};
  }
  const redirect = p.redirect_uri || `${location.origin}/oauth/callback`;
  const problem = h('div', { class: 'problem-slot' });
  const stateBadge = h('span', null, p.enabled ? badge('Enabled', 'ok') : badge('Not enabled', 'warn'));
  const results = h('div', { class: 'check-results', 'aria-live': 'polite' });
  const transports = p.transports || ['graph'];

  const clientId = input('client_id', p.client_id, { required: true });
  const secret = h('input', { type: 'password', name: 'client_secret', autocomplete: 'new-password',
    placeholder: p.has_client_secret ? 'Set (stored encrypted): leave empty to keep it' : 'Not set' });
  const tenant = input('tenant', p.tenant || 'common');
  const expires = h('input', { type: 'date', name: 'client_secret_expires',
    value: p.client_secret_expires_at ? p.client_secret_expires_at.slice(0, 10) : '' });
  const login = input('login_url', p.login_url && p.login_url !== DEFAULTS.login_url ? p.login_url : '', { placeholder: DEFAULTS.login_url, type: 'url' });
  const graph = input('graph_url', p.graph_url && p.graph_url !== DEFAULTS.graph_url ? p.graph_url : '', { placeholder: DEFAULTS.graph_url, type: 'url' });
  const imap = input('imap', p.imap && p.imap !== DEFAULTS.imap ? p.imap : '', { placeholder: DEFAULTS.imap });
  const smtp = input('smtp', p.smtp && p.smtp !== DEFAULTS.smtp ? p.smtp : '', { placeholder: DEFAULTS.smtp });
  const enabled = check('enabled', 'Offer Office 365 / Microsoft 365 to mailbox owners', p.enabled === undefined ? true : p.enabled,
    'Until this is on, owners see "OAuth not configured".');
  const tGraph = check('t_graph', 'Microsoft Graph', transports.includes('graph'), 'OAuth 2.0 with the Graph mail API and delta synchronization (recommended).');
  const tImap = check('t_imap', 'IMAP OAuth2', transports.includes('imap'), 'IMAP and SMTP with XOAUTH2, for tenants that only allow IMAP.');
  const removeSecret = p.has_client_secret ? check('remove_secret', 'Remove the secret (public client: PKCE only)', false) : null;

  const copyBtn = busyButton('Copy', async () => {
    await navigator.clipboard.writeText(redirect);
    announce('Redirect URI copied.');
  }, { class: 'secondary small', 'aria-label': 'Copy the redirect URI', onError: () => announce('Select the address and copy it by hand.', true) });

  const status = p.problem
    ? problemPanel({ title: 'The provider has a problem', cause: p.problem.message, fix: 'Correct the settings below, Save, then Check.', tone: 'warn', code: p.problem.code })
    : null;

  async function save() {
    fill(problem);
    const ts = [];
    if (tGraph.querySelector('input').checked) ts.push('graph');
    if (tImap.querySelector('input').checked) ts.push('imap');
    const body = {
      client_id: clientId.value.trim(),
      tenant: tenant.value.trim() || 'common',
      transports: ts,
      enabled: enabled.querySelector('input').checked,
      login_url: login.value.trim() || DEFAULTS.login_url,
      graph_url: graph.value.trim() || DEFAULTS.graph_url,
      imap: imap.value.trim() || DEFAULTS.imap,
      smtp: smtp.value.trim() || DEFAULTS.smtp,
    };
    if (secret.value) body.client_secret = secret.value;
    else if (removeSecret && removeSecret.querySelector('input').checked) body.client_secret = '';
    if (expires.value) body.client_secret_expires = expires.value;
    try {
      await put('/provider', body);
    } catch (e) {
      fill(problem, errorPanel(e, {}, 'The settings were not saved'));
      throw e;
    }
    if (body.client_secret) secret.placeholder = 'Set (stored encrypted): leave empty to keep it';
    secret.value = '';
    fill(stateBadge, body.enabled ? badge('Enabled', 'ok') : badge('Not enabled', 'warn'));
    announce('Provider settings saved.');
  }

  async function runCheck() {
    fill(results, h('p', { class: 'loading' }, 'Checking with Microsoft…'));
    let r;
    try {
      r = await post('/provider/check', {});
    } catch (e) {
      fill(results, errorPanel(e, {}, 'The check could not run'));
      return;
    }
    fill(results, h('section', { class: `panel check ${r.ok ? 'ok' : 'bad'}`, 'data-ok': String(!!r.ok) },
      h('h2', null, r.ok ? 'Check passed' : 'Check found problems'),
      r.redirect_uri && r.redirect_uri !== redirect ? h('p', null, 'Redirect URI to register: ', h('code', null, r.redirect_uri)) : null,
      h('ul', { class: 'checks' }, (r.checks || []).map((c) => h('li', { class: c.ok ? 'ok' : 'bad', 'data-check': c.name },
        h('span', { class: 'check-mark', 'aria-hidden': 'true' }, c.ok ? '✓' : '✗'),
        h('span', { class: 'visually-hidden' }, c.ok ? 'Passed: ' : 'Failed: '),
        h('span', null, h('strong', null, cap(c.message)), c.fix ? h('span', { class: 'hint' }, cap(c.fix)) : null))))));
  }

  const form = h('form', { class: 'panel', novalidate: true },
    h('h2', null, 'Microsoft app registration'),
    h('p', { class: 'hint' }, 'Register an app in Microsoft Entra (App registrations → New registration), add the redirect URI below as a Web platform redirect, create a client secret, and enter the values here.'),
    h('div', { class: 'redirect' },
      h('span', { class: 'label', id: 'redirect-label' }, 'Redirect URI to register'),
      h('code', { id: 'redirect-uri', 'aria-labelledby': 'redirect-label' }, redirect), copyBtn),
    field('Client ID', clientId, 'The Application (client) ID of the app registration.'),
    field('Client secret', secret, 'Write-only: it is stored encrypted and never shown again. Leave it empty for a public client.'),
    removeSecret,
    field('Client secret expires', expires, 'Optional: you are warned 30 days before.'),
    field('Tenant', tenant, '"common" for any organization, "organizations", or your tenant\'s domain or ID.'),
    h('fieldset', { class: 'field' }, h('legend', null, 'Connection types to offer'), tGraph, tImap),
    enabled,
    h('details', { class: 'advanced' }, h('summary', null, 'Endpoints (national clouds, test systems)'),
      field('Sign-in (login) URL', login, `Default ${DEFAULTS.login_url}`),
      field('Graph URL', graph, `Default ${DEFAULTS.graph_url}`),
      field('IMAP server (host:port)', imap, `Default ${DEFAULTS.imap}`),
      field('SMTP server (host:port)', smtp, `Default ${DEFAULTS.smtp}`)),
    h('div', { class: 'actions' },
      busyButton('Check', async () => runCheck(), { class: 'secondary' }),
      h('button', { type: 'submit', class: 'primary' }, 'Save')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      await save();
      await runCheck();
    } catch {
      /* shown in the panel */
    } finally {
      btn.disabled = false;
    }
  });
  fill(main, h('h1', null, 'Provider settings'),
    h('p', { class: 'lede' }, 'Microsoft OAuth for every mailbox on this server. ',
      p.updated_at ? `Last changed ${day(p.updated_at)}. ` : '',
      stateBadge),
    status, problem, form, results);
  return null;
}
