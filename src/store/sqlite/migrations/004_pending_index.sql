-- 004_pending_index.sql — local Sent entries (pending = 1) found by folder
-- through a partial index that holds only them: a page of new messages
-- asks once whether its folder has any, instead of looking each message's
-- Message-ID up in the large messages_imid index.
CREATE INDEX messages_pending ON messages (folder_id) WHERE pending = 1;
