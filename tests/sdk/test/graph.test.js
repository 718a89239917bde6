// graph.test.js — the Microsoft Graph JS client 3.0.7 against m365sim over
// HTTPS, configured with the simulator's base URL and its host in
// customHosts (so the SDK sends the token there): /me with Graph's
// headers, mail folders paged with PageIterator, a messages delta round
// with odata.maxpagesize and immutable ids to its deltaLink and a second
// round after changes, $batch through BatchRequestContent (four
// independent items at a time; beyond that 429 as Outlook answers),
// sendMail, and a 429 that the RetryHandler waits out.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, PageIterator, BatchRequestContent, BatchResponseContent, ResponseType } =
  require('@microsoft/microsoft-graph-client');
const { startSim, graphToken } = require('../lib/sim');

let sim;
let client;

test.before(async () => {
  sim = await startSim(['--messages', '300', '--seed', '7']);
  const token = await graphToken(sim, 'adele@contoso.com');
  client = Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => token },
    baseUrl: `${sim.url}/`,
    customHosts: new Set([sim.hostname]),
  });
});
test.after(async () => { assert.equal(await sim.stop(), 0); });

async function iterate(first, requestOptions) {
  const seen = [];
  const it = new PageIterator(client, first, (item) => { seen.push(item); return true; }, requestOptions);
  await it.iterate();
  return { seen, deltaLink: it.getDeltaLink() };
}

test('/me with Graph headers', async () => {
  const me = await client.api('/me').get();
  assert.equal(me.userPrincipalName, 'adele@contoso.com');
  assert.equal(me['@odata.context'], `${sim.url}/v1.0/$metadata#users/$entity`);
  const raw = await client.api('/me').responseType(ResponseType.RAW).get();
  assert.equal(raw.headers.get('odata-version'), '4.0');
  assert.equal(raw.headers.get('content-type'),
    'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8');
});

test('mail folders paged with PageIterator', async () => {
  const first = await client.api('/me/mailFolders').top(2).get();
  assert.ok(first['@odata.nextLink'].startsWith(`${sim.url}/v1.0/me/mailFolders?%24top=2`),
    first['@odata.nextLink']);
  const { seen } = await iterate(first);
  const dump = await sim.admin('GET', '/mailboxes/adele@contoso.com/dump?ids=true');
  const top = dump.folders.filter((f) => !f.path.includes('/') && !f.isHidden && f.wellKnownName !== 'msgfolderroot');
  assert.deepEqual(seen.map((f) => f.id).sort(), top.map((f) => f.id).sort());
});

test('messages delta: maxpagesize and immutable ids to the deltaLink, then a second round', async () => {
  const headers = { Prefer: 'odata.maxpagesize=50, IdType="ImmutableId"' };
  const first = await client.api('/me/mailFolders/inbox/messages/delta')
    .select('subject,isRead,receivedDateTime').headers(headers).get();
  assert.ok(first['@odata.nextLink'].includes('%24skiptoken='), first['@odata.nextLink']);
  const round1 = await iterate(first, { headers });
  const dump = await sim.admin('GET', '/mailboxes/adele@contoso.com/messages?folder=inbox');
  const inbox = dump.messages.map((m) => m.id).sort();
  assert.deepEqual(round1.seen.map((m) => m.id).sort(), inbox);
  assert.ok(round1.deltaLink.startsWith(`${sim.url}/v1.0/`) && round1.deltaLink.includes('%24deltatoken='));

  const target = inbox[3];
  await sim.admin('PATCH', `/mailboxes/adele@contoso.com/messages/${encodeURIComponent(target)}`, { isRead: true });
  const added = await sim.admin('POST', '/mailboxes/adele@contoso.com/messages', { subject: 'SDK delta', from: 'x@fabrikam.com' });
  const round2 = await iterate(await client.api(round1.deltaLink).headers(headers).get(), { headers });
  const ids = round2.seen.map((m) => m.id).sort();
  assert.deepEqual(ids, [added.id, target].sort());
  assert.equal(round2.seen.find((m) => m.id === target).isRead, true);
});

test('$batch with BatchRequestContent: four at a time, dependsOn chains run', async () => {
  const steps = [];
  for (let i = 1; i <= 6; i++) {
    steps.push({ id: String(i), request: new Request(`${sim.url}/v1.0/me/mailFolders/inbox?x=${i}`, { method: 'GET' }) });
  }
  const content = new BatchRequestContent(steps);
  const out = new BatchResponseContent(await client.api('/$batch').post(await content.getContent()));
  const statuses = [...out.getResponses().values()].map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);

  const chain = new BatchRequestContent(steps.slice(0, 5).map((s, i) => ({ ...s, dependsOn: i ? [String(i)] : undefined })));
  const out2 = new BatchResponseContent(await client.api('/$batch').post(await chain.getContent()));
  assert.deepEqual([...out2.getResponses().values()].map((r) => r.status), [200, 200, 200, 200, 200]);
  const inbox = await out2.getResponseById('5').json();
  assert.equal(inbox.displayName, 'Inbox');
});

test('sendMail', async () => {
  await client.api('/me/sendMail').post({
    message: { subject: 'From the Graph SDK', body: { contentType: 'Text', content: 'hello' },
      toRecipients: [{ emailAddress: { address: 'bob@contoso.com' } }] },
    saveToSentItems: true,
  });
  const sent = await sim.admin('GET', '/sent');
  assert.equal(sent.value.at(-1).subject, 'From the Graph SDK');
  assert.deepEqual(sent.value.at(-1).delivered, ['bob@contoso.com']);
});

test('a 429 is waited out by the RetryHandler', async () => {
  await sim.admin('POST', '/counters/reset');
  await sim.admin('POST', '/faults', { kind: '429', path: '/v1.0/me', count: 1, retry_after: 1 });
  const me = await client.api('/me').get();
  assert.equal(me.mail, 'adele@contoso.com');
  const c = await sim.admin('GET', '/counters');
  const hits = Object.entries(c.requests).filter(([k]) => k.startsWith('GET '));
  const statuses = hits.flatMap(([, v]) => Object.entries(v)).reduce((a, [s, n]) => ({ ...a, [s]: (a[s] || 0) + n }), {});
  assert.equal(statuses['429'], 1);
  assert.equal(statuses['200'], 1);
});
