// common.js — words and pieces the account pages share: transport and
// provider names, the "OAuth not configured" notice, and the authorize
// call that sends the browser to Microsoft and back.

import { post, seg } from '../api.js';
import { h } from '../dom.js';
import { problemPanel } from '../ui.js';

export const PROVIDER_LABEL = 'Office 365 / Microsoft 365';

export const TRANSPORTS = {
  graph: { label: 'Microsoft Graph', hint: 'Recommended: OAuth 2.0 with Microsoft Graph and delta synchronization.',
    incoming: 'Outlook OAuth / Microsoft Graph', outgoing: 'Outlook / Microsoft 365 (Graph sendMail)' },
  imap: { label: 'IMAP OAuth2', hint: 'IMAP and SMTP signed in with OAuth 2.0 (XOAUTH2), for organizations that only allow IMAP.',
    incoming: 'IMAP with OAuth2 (XOAUTH2)', outgoing: 'SMTP with OAuth2 (XOAUTH2)' },
};

// Whether the account holds a working grant (server settings filled in).
export const isAuthorized = (a) => !!(a && a.server && a.server.authorized_at) &&
  a.state !== 'stopped' && a.state !== 'new';

export function transportLabel(t) {
  return (TRANSPORTS[t] && TRANSPORTS[t].label) || t || '';
}

// The transports the administrator enabled, or null when the page
// cannot know (then every transport is offered and the server decides).
export function enabledTransports(info) {
  if (!info || !info.known) return null;
  if (!info.enabled) return [];
  return (info.transports || []).filter((t) => TRANSPORTS[t]);
}

// "OAuth not configured" and who fixes it, or null when all is well.
export function providerNotice(info, app) {
  const t = enabledTransports(info);
  if (t === null || t.length) return null;
  return problemPanel({
    title: 'OAuth not configured',
    code: 'oauth_not_configured',
    cause: info.configured === false || info.client_id === ''
      ? 'Microsoft OAuth has not been set up on this inboxsync server yet, so no mailbox can be connected.'
      : 'The Microsoft provider is not enabled on this inboxsync server (or no connection type is offered), so no mailbox can be connected.',
    fix: 'An administrator enters the Microsoft app registration (client ID and secret from Microsoft Entra), chooses the connection types to offer and enables the provider in Provider settings.',
    fixCode: 'configure_provider',
    tone: 'warn',
  }, { isAdmin: app.isAdmin, openProvider: () => app.navigate('#/admin/provider') });
}

// Send the browser to Microsoft to authorize account `id`; Microsoft
// returns to the server's /oauth/callback, which sends it back here.
// `hash` is the page to come back to (default: the account's page).
export async function authorize(id, hash = `#/accounts/${encodeURIComponent(id)}`) {
  const back = `/${hash}`;
  const r = await post(`/accounts/${seg(id)}/authorize`, { return_to: back });
  if (!r || !r.authorization_url) throw new Error('The server gave no Microsoft address to go to.');
  sessionStorage.setItem('inboxsync.authorizing', JSON.stringify({ id: String(id), at: Date.now() }));
  location.assign(r.authorization_url);
  // The page is leaving: keep the button busy.
  await new Promise(() => {});
}

// Whether we came back from Microsoft for this account (once).
export function takeAuthorizeReturn(id) {
  const raw = sessionStorage.getItem('inboxsync.authorizing');
  if (!raw) return null;
  try {
    const v = JSON.parse(raw);
    if (String(v.id) !== String(id)) return null;
    sessionStorage.removeItem('inboxsync.authorizing');
    return v;
  } catch {
    sessionStorage.removeItem('inboxsync.authorizing');
    return null;
  }
}

export function providerSelect(info, id) {
  const t = enabledTransports(info);
  const sel = h('select', { id, name: 'provider', required: true },
    h('option', { value: '' }, 'Choose…'),
    t === null || t.length ? h('option', { value: 'microsoft' }, PROVIDER_LABEL) : null);
  return sel;
}
