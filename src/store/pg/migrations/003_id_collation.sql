-- 003_id_collation.sql — ids compared as bytes. Remote ids and Message-IDs
-- are opaque strings, yet their columns had the database's collation, so
-- every step down the (account_id, remote_id) and Message-ID indexes
-- compared 100–150-byte ids with strcoll (C.UTF-8, en_US.UTF-8, ...):
-- most of the server's CPU when a large first round is inserted. With
-- COLLATE "C" they compare with memcmp; equality was byte equality
-- already, so nothing finds or misses a row it did not before.
ALTER TABLE messages
  ALTER COLUMN remote_id TYPE text COLLATE "C",
  ALTER COLUMN internet_message_id TYPE text COLLATE "C";
ALTER TABLE folders
  ALTER COLUMN remote_id TYPE text COLLATE "C",
  ALTER COLUMN parent_remote_id TYPE text COLLATE "C";
