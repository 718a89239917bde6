// receiver.js — a webhook receiver for the server tests, on 127.0.0.1 (a
// free port written to PORT_FILE). Every POST is recorded as one JSON line
// in LOG_FILE: {path, event, delivery, signature_ok, account_id, type,
// seq, status, at}. Each path can be told (POST /_control) its secret, to
// fail its next N deliveries with a status, or to hold its next N answers
// for D ms (longer than the sender's 10 s timeout makes a timeout).
// Usage: node receiver.js PORT_FILE LOG_FILE
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');

const [portFile, logFile] = process.argv.slice(2);
const paths = new Map(); // path -> {secret, fail, failStatus, slow, delayMs}

function config(path) {
  if (!paths.has(path)) paths.set(path, { secret: '', fail: 0, failStatus: 500, slow: 0, delayMs: 0 });
  return paths.get(path);
}

// X-Inboxsync-Signature: t=UNIX,v1=HEX with HEX = HMAC-SHA256(secret, t + "." + body).
function signatureOk(secret, header, body) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header || '');
  if (!m || !secret) return false;
  const want = crypto.createHmac('sha256', secret).update(m[1] + '.').update(body).digest('hex');
  return crypto.timingSafeEqual(Buffer.from(want), Buffer.from(m[2]));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/_control') {
      const c = JSON.parse(body.toString() || '{}');
      const p = config(c.path);
      for (const k of ['secret', 'fail', 'failStatus', 'slow', 'delayMs']) if (k in c) p[k] = c[k];
      res.writeHead(204).end();
      return;
    }
    const p = config(url.pathname);
    let event = {};
    try { event = JSON.parse(body.toString()); } catch { /* recorded as is */ }
    let status = 200;
    if (p.fail > 0) { p.fail--; status = p.failStatus; }
    const delay = p.slow > 0 ? (p.slow--, p.delayMs) : 0;
    const record = {
      path: url.pathname, event: req.headers['x-inboxsync-event'],
      delivery: req.headers['x-inboxsync-delivery'],
      content_type: req.headers['content-type'],
      signature_ok: signatureOk(p.secret, req.headers['x-inboxsync-signature'], body),
      account_id: event.account_id, type: event.type, seq: event.seq, id: event.id,
      message_id: event.data && event.data.message ? event.data.message.id : null,
      backfill: !!(event.data && event.data.backfill),
      status: delay > 10500 ? 'timeout' : status, at: Date.now(),
    };
    setTimeout(() => {
      fs.appendFileSync(logFile, JSON.stringify(record) + '\n');
      if (!res.destroyed) res.writeHead(status, { 'Content-Type': 'text/plain' }).end('ok');
    }, delay);
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
