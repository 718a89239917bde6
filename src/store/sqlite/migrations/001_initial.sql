-- 001_initial.sql — the first schema of the inboxsync store (SQLite).
-- Times are Unix seconds (UTC). Secrets are only ever stored sealed by the
-- vault ("v1:..."); the store never sees plaintext.

CREATE TABLE providers (
  name TEXT PRIMARY KEY,
  tenant TEXT NOT NULL DEFAULT 'common',
  client_id TEXT NOT NULL,
  client_secret_sealed TEXT,
  login_url TEXT NOT NULL,
  graph_url TEXT NOT NULL,
  imap_host TEXT NOT NULL,
  imap_port INTEGER NOT NULL,
  smtp_host TEXT NOT NULL,
  smtp_port INTEGER NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  transports INTEGER NOT NULL DEFAULT 3,
  updated_at INTEGER NOT NULL
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
INSERT INTO users (id, name, created_at) VALUES (1, 'local', 0);

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  sender_name TEXT NOT NULL DEFAULT '',
  transport TEXT NOT NULL CHECK (transport IN ('graph', 'imap')),
  state TEXT NOT NULL DEFAULT 'new',
  state_reason TEXT NOT NULL DEFAULT '',
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
  next_due_at INTEGER NOT NULL DEFAULT 0,
  throttled_until INTEGER NOT NULL DEFAULT 0,
  backoff_s INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX accounts_identity ON accounts (tenant_id, object_id)
  WHERE object_id <> '';

CREATE TABLE credentials (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  refresh_sealed TEXT,
  scope TEXT NOT NULL DEFAULT '',
  generation INTEGER NOT NULL DEFAULT 0,
  lock_owner TEXT NOT NULL DEFAULT '',
  lock_until INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);

CREATE TABLE access_tokens (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  resource TEXT NOT NULL,
  sealed TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, resource)
);

CREATE TABLE oauth_states (
  state TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  verifier_sealed TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE folders (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  remote_id TEXT NOT NULL,
  parent_remote_id TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  well_known TEXT NOT NULL DEFAULT '',
  selected INTEGER NOT NULL DEFAULT 0,
  total INTEGER NOT NULL DEFAULT 0,
  unread INTEGER NOT NULL DEFAULT 0,
  phase TEXT NOT NULL DEFAULT 'pending',
  cursor TEXT,
  round_gen INTEGER NOT NULL DEFAULT 0,
  round_fresh INTEGER NOT NULL DEFAULT 0,
  last_sync_at INTEGER NOT NULL DEFAULT 0,
  resync_count INTEGER NOT NULL DEFAULT 0,
  last_resync_at INTEGER NOT NULL DEFAULT 0,
  scan_seen INTEGER NOT NULL DEFAULT 1,
  UNIQUE (account_id, remote_id)
);

CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
  remote_id TEXT NOT NULL,
  internet_message_id TEXT NOT NULL DEFAULT '',
  conversation_id TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  from_name TEXT NOT NULL DEFAULT '',
  from_addr TEXT NOT NULL DEFAULT '',
  to_json TEXT NOT NULL DEFAULT '[]',
  cc_json TEXT NOT NULL DEFAULT '[]',
  categories_json TEXT NOT NULL DEFAULT '[]',
  preview TEXT NOT NULL DEFAULT '',
  change_key TEXT NOT NULL DEFAULT '',
  received_at INTEGER NOT NULL DEFAULT 0,
  sent_at INTEGER NOT NULL DEFAULT 0,
  is_read INTEGER NOT NULL DEFAULT 0,
  is_flagged INTEGER NOT NULL DEFAULT 0,
  is_draft INTEGER NOT NULL DEFAULT 0,
  has_attachments INTEGER NOT NULL DEFAULT 0,
  body_type TEXT,
  body BLOB,
  pending INTEGER NOT NULL DEFAULT 0,
  seen_gen INTEGER NOT NULL DEFAULT 0,
  orphan INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (account_id, remote_id)
);
CREATE INDEX messages_folder_time ON messages (folder_id, received_at DESC, id DESC);
CREATE INDEX messages_account_time ON messages (account_id, received_at DESC, id DESC);
CREATE INDEX messages_imid ON messages (account_id, internet_message_id)
  WHERE internet_message_id <> '';
CREATE INDEX messages_orphans ON messages (account_id) WHERE orphan = 1;

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  idem_key TEXT NOT NULL UNIQUE,
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
  updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_open ON outbox (account_id, state);

CREATE TABLE changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  op TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX changes_account ON changes (account_id, seq);
