-- 003_service.sql — what the service needs: users who sign in (admin flag,
-- password hash), API tokens and sessions; account names unique per owner;
-- structured fixes and the latest error on accounts, and an error history;
-- sync leases; the server's own role of each folder; events (typed, with
-- the owner, the folder and the backfill mark) instead of the bare change
-- feed; webhooks, their per-account delivery slots and delivery log;
-- idempotency keys per account with a request fingerprint; when a grant
-- was last used; the provider's own problems and secret expiry.
-- Runs with foreign keys off (tables are rebuilt); checked afterwards.

ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_hash TEXT;
UPDATE users SET admin = 1 WHERE id = 1;

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

ALTER TABLE providers ADD COLUMN secret_expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE providers ADD COLUMN problem_code TEXT NOT NULL DEFAULT '';
ALTER TABLE providers ADD COLUMN problem TEXT NOT NULL DEFAULT '';
ALTER TABLE providers ADD COLUMN problem_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE accounts_new (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  sender_name TEXT NOT NULL DEFAULT '',
  transport TEXT NOT NULL CHECK (transport IN ('graph', 'imap')),
  state TEXT NOT NULL DEFAULT 'new',
  state_reason TEXT NOT NULL DEFAULT '',
  state_fix TEXT NOT NULL DEFAULT '',
  state_fix_arg TEXT NOT NULL DEFAULT '',
  auth_failures INTEGER NOT NULL DEFAULT 0,
  incoming_status TEXT NOT NULL DEFAULT 'not_confirmed',
  incoming_last_fetch_at INTEGER NOT NULL DEFAULT 0,
  incoming_error TEXT NOT NULL DEFAULT '',
  outgoing_status TEXT NOT NULL DEFAULT 'untested',
  outgoing_error TEXT NOT NULL DEFAULT '',
  identity TEXT NOT NULL DEFAULT '',
  display_name TEXT NOT NULL DEFAULT '',
  tenant_id TEXT NOT NULL DEFAULT '',
  object_id TEXT NOT NULL DEFAULT '',
  graph_url TEXT NOT NULL DEFAULT '',
  imap_server TEXT NOT NULL DEFAULT '',
  smtp_server TEXT NOT NULL DEFAULT '',
  authorized_at INTEGER NOT NULL DEFAULT 0,
  folders_scanned_at INTEGER NOT NULL DEFAULT 0,
  next_due_at INTEGER NOT NULL DEFAULT 0,
  throttled_until INTEGER NOT NULL DEFAULT 0,
  backoff_s INTEGER NOT NULL DEFAULT 0,
  last_error_code TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  last_error_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (user_id, name)
);
INSERT INTO accounts_new (id, user_id, name, email, sender_name, transport,
  state, state_reason, auth_failures, incoming_status, incoming_last_fetch_at,
  incoming_error, outgoing_status, outgoing_error, identity, display_name,
  tenant_id, object_id, graph_url, imap_server, smtp_server, authorized_at,
  folders_scanned_at, next_due_at, throttled_until, backoff_s, last_error,
  created_at, updated_at)
SELECT id, user_id, name, email, sender_name, transport, state, state_reason,
  auth_failures, incoming_status, incoming_last_fetch_at, incoming_error,
  outgoing_status, outgoing_error, identity, display_name, tenant_id,
  object_id, graph_url, imap_server, smtp_server, authorized_at,
  folders_scanned_at, next_due_at, throttled_until, backoff_s, last_error,
  created_at, updated_at FROM accounts;
UPDATE accounts_new SET last_error_code = 'error', last_error_at = updated_at
  WHERE last_error <> '';
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE UNIQUE INDEX accounts_identity ON accounts (tenant_id, object_id)
  WHERE object_id <> '';
CREATE INDEX accounts_email ON accounts (lower(email));

CREATE TABLE account_errors (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  class TEXT NOT NULL,
  code TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX account_errors_account ON account_errors (account_id, id);

CREATE TABLE account_leases (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  holder TEXT NOT NULL DEFAULT '',
  generation INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE credentials ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
UPDATE credentials SET used_at = updated_at;
ALTER TABLE oauth_states ADD COLUMN return_to TEXT NOT NULL DEFAULT '';

ALTER TABLE folders ADD COLUMN server_role TEXT NOT NULL DEFAULT '';
UPDATE folders SET server_role = CASE well_known
  WHEN 'inbox' THEN 'inbox' WHEN 'sentitems' THEN 'sent'
  WHEN 'drafts' THEN 'drafts' WHEN 'deleteditems' THEN 'deleted'
  WHEN 'archive' THEN 'archive' WHEN 'junkemail' THEN 'junk' ELSE '' END;
ALTER TABLE folders DROP COLUMN well_known;
ALTER TABLE folders ADD COLUMN first_round INTEGER NOT NULL DEFAULT 0;
UPDATE folders SET first_round = 1 WHERE selected = 1 AND resync_count = 0
  AND phase IN ('pending', 'newest', 'backfill');

ALTER TABLE messages ADD COLUMN size INTEGER NOT NULL DEFAULT 0;

CREATE TABLE outbox_new (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'queued',
  internet_message_id TEXT NOT NULL,
  request_json TEXT NOT NULL,
  mime BLOB,
  draft_remote_id TEXT,
  reply_to_remote_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (account_id, idem_key)
);
INSERT INTO outbox_new (id, account_id, idem_key, state, internet_message_id,
  request_json, mime, draft_remote_id, reply_to_remote_id, attempts,
  last_error, next_attempt_at, created_at, updated_at)
SELECT id, account_id, idem_key, state, internet_message_id, request_json,
  mime, draft_remote_id, reply_to_remote_id, attempts, last_error,
  next_attempt_at, created_at, updated_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_open ON outbox (account_id, state);

-- Events: `type` is the number of enum store_event_type (never renumbered).
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  type INTEGER NOT NULL,
  entity_id TEXT NOT NULL DEFAULT '',
  folder_path TEXT NOT NULL DEFAULT '',
  from_folder TEXT NOT NULL DEFAULT '',
  backfill INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL
);
INSERT INTO events (account_id, user_id, type, entity_id, at)
SELECT c.account_id, a.user_id, CASE c.op WHEN 'created' THEN 0
  WHEN 'updated' THEN 1 WHEN 'moved' THEN 2 ELSE 3 END, c.entity_id, c.at
  FROM changes c JOIN accounts a ON a.id = c.account_id
  WHERE c.entity = 'message' ORDER BY c.seq;
DROP TABLE changes;
CREATE INDEX events_account ON events (account_id, seq);

CREATE TABLE webhooks (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  secret_sealed TEXT NOT NULL,
  include_backfill INTEGER NOT NULL DEFAULT 0,
  after_seq INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  disabled_reason TEXT NOT NULL DEFAULT '',
  failing_since INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE TABLE webhook_slots (
  webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  delivered_seq INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  claim_holder TEXT NOT NULL DEFAULT '',
  claim_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (webhook_id, account_id)
);

CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY,
  webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  account_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  http_status INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
