-- 005_remote_key.sql — messages are found by a 64-bit key of their remote
-- id (SipHash, inboxsync_remote_key) instead of a unique index on the id
-- text: Graph's immutable ids are 100–150 random-looking bytes, so that
-- index was several times the size of the key index and every page of a
-- first round dirtied a few hundred of its pages. The unique index is now
-- (account_id, remote_key); an id whose key another id of the account
-- already has keeps remote_key NULL (NULLs are never equal in a UNIQUE
-- index), and lookups match the id itself as well (sqlite_internal.h).
-- SQLite cannot drop a table constraint, so the table is rebuilt.
CREATE TABLE messages_new (
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
  size INTEGER NOT NULL DEFAULT 0,
  remote_key INTEGER,
  UNIQUE (account_id, remote_key)
);
INSERT INTO messages_new (id, account_id, folder_id, remote_id, internet_message_id,
  conversation_id, subject, from_name, from_addr, to_json, cc_json, categories_json,
  preview, change_key, received_at, sent_at, is_read, is_flagged, is_draft,
  has_attachments, body_type, body, pending, seen_gen, orphan, updated_at, size)
SELECT id, account_id, folder_id, remote_id, internet_message_id,
  conversation_id, subject, from_name, from_addr, to_json, cc_json, categories_json,
  preview, change_key, received_at, sent_at, is_read, is_flagged, is_draft,
  has_attachments, body_type, body, pending, seen_gen, orphan, updated_at, size
FROM messages;
-- OR IGNORE: a row whose key is taken keeps NULL (see above).
UPDATE OR IGNORE messages_new SET remote_key = inboxsync_remote_key(remote_id);
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_folder_time ON messages (folder_id, received_at DESC, id DESC);
CREATE INDEX messages_account_time ON messages (account_id, received_at DESC, id DESC);
CREATE INDEX messages_imid ON messages (account_id, internet_message_id)
  WHERE internet_message_id <> '';
CREATE INDEX messages_orphans ON messages (account_id) WHERE orphan = 1;
CREATE INDEX messages_pending ON messages (folder_id) WHERE pending = 1;
