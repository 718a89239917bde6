// api_check.js — keeps docs/openapi.json true.
//   node api_check.js routes OPENAPI ROUTES   every route of the server's
//       table (`inboxsync serve --routes`, JSON lines) is documented with
//       the same method, path and caller, and every documented operation
//       is in the table;
//   node api_check.js validate OPENAPI LOG... every response the API tests
//       recorded (lines METHOD<TAB>PATH<TAB>STATUS<TAB>TYPE<TAB>BODY_FILE) is
//       one the document allows for that operation, and its JSON body
//       validates against the operation's schema (JSON Schema 2020-12).
// Prints what is wrong and exits 1; prints a summary and exits 0 else.
'use strict';
const fs = require('node:fs');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats');

const [mode, docPath, ...files] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
const methods = ['get', 'put', 'post', 'patch', 'delete'];
const problems = [];

function operations() {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const m of methods) if (item[m]) out.push({ method: m.toUpperCase(), path, op: item[m] });
  return out;
}

function checkRoutes(routesFile) {
  const table = fs.readFileSync(routesFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const ops = operations();
  const key = (m, p) => `${m} ${p}`;
  const documented = new Map(ops.map((o) => [key(o.method, o.path), o]));
  const served = new Set(table.map((r) => key(r.method, r.path)));
  for (const r of table) {
    const o = documented.get(key(r.method, r.path));
    if (!o) problems.push(`the server answers ${r.method} ${r.path}, which the document does not describe`);
    else if (o.op['x-inboxsync-who'] !== r.who)
      problems.push(`${r.method} ${r.path}: the server lets "${r.who}" call it, the document says "${o.op['x-inboxsync-who']}"`);
  }
  for (const o of ops)
    if (!served.has(key(o.method, o.path))) problems.push(`the document describes ${o.method} ${o.path}, which the server does not answer`);
  return `${table.length} routes, ${ops.length} documented operations`;
}

function matcher(template) {
  const re = template.split('/').map((s) => (/^\{.*\}$/.test(s) ? '[^/]+' : s.replace(/[.$]/g, '\\$&'))).join('/');
  return new RegExp(`^${re}/?$`);
}

function validateLogs(logs) {
  // Every $ref points into the document, registered under the id "api".
  const text = JSON.stringify(doc).replaceAll('"#/components/', '"api#/components/');
  const refDoc = JSON.parse(text);
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'api', components: refDoc.components });
  const ops = operations().map((o) => ({ ...o, re: matcher(o.path), ref: refDoc.paths[o.path][o.method.toLowerCase()] }));
  const compiled = new Map();
  const errorSchema = ajv.compile({ $ref: 'api#/components/schemas/Error' });
  let checked = 0, bodies = 0;
  for (const file of logs) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const [method, rawPath, status, contentType, bodyFile] = line.split('\t');
      const text = fs.readFileSync(bodyFile, 'utf8');
      let body = text.length ? text : null;
      try { if (text.length) body = JSON.parse(text); } catch { /* not JSON: kept as text */ }
      const r = { method, path: rawPath, status: Number(status), content_type: contentType, body };
      const path = r.path.split('?')[0];
      const o = ops.find((x) => x.method === r.method && x.re.test(path));
      if (!r.status) continue; // no answer (the server was down): nothing to check
      checked++;
      if (!o) {
        // Not an operation: only "no such route" and "wrong method" answers.
        if (r.status !== 404 && r.status !== 405) problems.push(`${r.method} ${path}: not a documented operation`);
        else if (!errorSchema(r.body)) problems.push(`${r.method} ${path} ${r.status}: ${ajv.errorsText(errorSchema.errors)}`);
        continue;
      }
      const responses = o.ref.responses;
      const resp = responses[String(r.status)] || responses.default;
      if (!resp) { problems.push(`${r.method} ${o.path} answered ${r.status}, which the document does not allow`); continue; }
      const ctype = (r.content_type || '').split(';')[0].trim();
      if (!resp.content) {
        if (r.body !== null && r.body !== undefined && r.body !== '')
          problems.push(`${r.method} ${o.path} ${r.status}: the document says no body, the server sent one`);
        continue;
      }
      const media = resp.content[ctype];
      if (!media) { problems.push(`${r.method} ${o.path} ${r.status}: content type ${ctype || '(none)'} is not documented`); continue; }
      if (ctype !== 'application/json' || !media.schema) continue;
      const k = `${o.method} ${o.path} ${r.status}`;
      if (!compiled.has(k)) compiled.set(k, ajv.compile(media.schema));
      const validate = compiled.get(k);
      bodies++;
      if (!validate(r.body))
        problems.push(`${k}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(r.body).slice(0, 300)}`);
    }
  }
  return `${checked} responses checked, ${bodies} JSON bodies validated`;
}

let summary;
if (mode === 'routes') summary = checkRoutes(files[0]);
else if (mode === 'validate') summary = validateLogs(files);
else { console.error('usage: api_check.js routes|validate OPENAPI FILE...'); process.exit(2); }
if (problems.length) {
  for (const p of [...new Set(problems)].slice(0, 50)) console.error(`FAIL: ${p}`);
  console.error(`${problems.length} problem(s); ${summary}`);
  process.exit(1);
}
console.log(`ok: ${summary}`);
