-- 004_page_lists_text.sql — the page's address and category lists read
-- as text. inboxsync_apply_items declared them json in its record and cast
-- them to text, so the server parsed each list twice (once as part of the
-- page, once more by json's input function) before storing the same text;
-- json_to_recordset gives a text column a nested value's JSON text as it
-- stands, which is what the ::text cast gave. Same function otherwise.
CREATE OR REPLACE FUNCTION inboxsync_apply_items(p_account bigint, p_folder bigint,
                                      p_path text, p_user bigint,
                                      p_seen_gen bigint, p_backfill boolean,
                                      p_now bigint, p_items json, p_replaces text)
RETURNS inboxsync_page_counts LANGUAGE plpgsql AS $$
DECLARE
  c inboxsync_page_counts;
BEGIN
  -- Every lookup goes through the (account_id, remote_id) index, one
  -- item at a time (LATERAL ... LIMIT 1 keeps the planner from a scan of
  -- the account's messages, whatever its statistics say); every write
  -- after that is by primary key.
  WITH x AS (
    SELECT j.ord, j.remote_id, COALESCE(j.removed, false) AS removed,
           j.internet_message_id, j.conversation_id, j.subject, j.from_name,
           j.from_addr, j.to_json, j.cc_json,
           j.categories_json, j.preview, j.change_key,
           j.received_at, j.sent_at, j.size, j.is_read, j.is_flagged, j.is_draft,
           j.has_attachments, p_replaces AS replaces
      FROM json_to_recordset(p_items) AS j(ord bigint, remote_id text,
           removed boolean, internet_message_id text, conversation_id text,
           subject text, from_name text, from_addr text, to_json text,
           cc_json text, categories_json text, preview text, change_key text,
           received_at bigint, sent_at bigint, size bigint, is_read boolean,
           is_flagged boolean, is_draft boolean, has_attachments boolean)
  ), lk AS (
    SELECT x.*, m.id AS mid, m.folder_id AS old_folder, m.pending AS was_pending,
           (m.folder_id = p_folder AND COALESCE(x.change_key, '') <> ''
            AND m.change_key = x.change_key) AS same
      FROM x CROSS JOIN LATERAL (SELECT id, folder_id, change_key, pending
             FROM messages WHERE account_id = p_account AND remote_id = x.remote_id
             LIMIT 1) m
  ), ex AS (
    SELECT * FROM lk WHERE NOT lk.removed
  ), rem AS (
    UPDATE messages m SET orphan = true FROM lk
     WHERE m.id = lk.mid AND lk.removed AND lk.old_folder = p_folder
       AND NOT lk.was_pending
    RETURNING m.id
  ), unch AS (
    UPDATE messages m SET seen_gen = p_seen_gen, orphan = false FROM ex
     WHERE m.id = ex.mid AND ex.same
    RETURNING m.id
  ), upd AS (
    UPDATE messages m SET
      internet_message_id = COALESCE(ex.internet_message_id, m.internet_message_id),
      conversation_id = COALESCE(ex.conversation_id, m.conversation_id),
      subject = COALESCE(ex.subject, m.subject),
      from_name = COALESCE(ex.from_name, m.from_name),
      from_addr = COALESCE(ex.from_addr, m.from_addr),
      to_json = COALESCE(ex.to_json, m.to_json),
      cc_json = COALESCE(ex.cc_json, m.cc_json),
      categories_json = COALESCE(ex.categories_json, m.categories_json),
      preview = COALESCE(ex.preview, m.preview),
      change_key = COALESCE(ex.change_key, m.change_key),
      received_at = COALESCE(ex.received_at, m.received_at),
      sent_at = COALESCE(ex.sent_at, m.sent_at),
      size = COALESCE(ex.size, m.size),
      is_read = COALESCE(ex.is_read, m.is_read),
      is_flagged = COALESCE(ex.is_flagged, m.is_flagged),
      is_draft = COALESCE(ex.is_draft, m.is_draft),
      has_attachments = COALESCE(ex.has_attachments, m.has_attachments),
      folder_id = p_folder, seen_gen = p_seen_gen, orphan = false,
      pending = false, updated_at = p_now
      FROM ex
     WHERE m.id = ex.mid AND NOT ex.same
    RETURNING ex.ord, ex.remote_id, ex.old_folder, ex.replaces
  ), ins AS (
    INSERT INTO messages (account_id, folder_id, remote_id, internet_message_id,
      conversation_id, subject, from_name, from_addr, to_json, cc_json,
      categories_json, preview, change_key, received_at, sent_at, size, is_read,
      is_flagged, is_draft, has_attachments, seen_gen, updated_at, pending)
    SELECT p_account, p_folder, x.remote_id, COALESCE(x.internet_message_id, ''),
      COALESCE(x.conversation_id, ''), COALESCE(x.subject, ''),
      COALESCE(x.from_name, ''), COALESCE(x.from_addr, ''),
      COALESCE(x.to_json, '[]'), COALESCE(x.cc_json, '[]'),
      COALESCE(x.categories_json, '[]'), COALESCE(x.preview, ''),
      COALESCE(x.change_key, ''), COALESCE(x.received_at, 0),
      COALESCE(x.sent_at, 0), COALESCE(x.size, 0), COALESCE(x.is_read, false),
      COALESCE(x.is_flagged, false), COALESCE(x.is_draft, false),
      COALESCE(x.has_attachments, false), p_seen_gen, p_now, false
      FROM x
     WHERE NOT x.removed AND NOT EXISTS (SELECT 1 FROM ex WHERE ex.ord = x.ord)
     ORDER BY x.ord
    RETURNING remote_id
  ), feed AS (
    INSERT INTO pg_temp.staged_events (account_id, user_id, type, entity_id,
                                       folder_path, from_folder, backfill, data, at)
    SELECT p_account, p_user, e.type, e.remote_id, p_path, e.from_folder,
           e.backfill, e.data, p_now
      FROM (
        SELECT upd.ord, upd.remote_id,
               CASE WHEN upd.old_folder <> p_folder THEN 2 ELSE 1 END AS type,
               CASE WHEN upd.old_folder <> p_folder
                    THEN COALESCE((SELECT f.path FROM folders f WHERE f.id = upd.old_folder), '')
                    ELSE '' END AS from_folder,
               false AS backfill,
               CASE WHEN upd.replaces IS NULL THEN ''
                    ELSE '{"replaces":' || to_json(upd.replaces)::text || '}' END AS data
          FROM upd
        UNION ALL
        SELECT x.ord, x.remote_id, 0, '', p_backfill, ''
          FROM ins JOIN x ON x.remote_id = ins.remote_id
      ) e
     ORDER BY e.ord
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM ins),
         (SELECT count(*) FROM upd WHERE upd.old_folder = p_folder AND upd.replaces IS NULL),
         (SELECT count(*) FROM upd WHERE upd.replaces IS NOT NULL),
         (SELECT count(*) FROM upd WHERE upd.old_folder <> p_folder),
         (SELECT count(*) FROM unch),
         (SELECT count(*) FROM rem) + 0 * (SELECT count(*) FROM feed)
    INTO c.created, c.updated, c.replaced, c.moved, c.unchanged, c.removed;
  RETURN c;
END
$$;
