-- 002_folder_scan_time.sql — when an account's folder tree was last read,
-- so sync can re-read it now and then (renames, new and deleted folders).
ALTER TABLE accounts ADD COLUMN folders_scanned_at INTEGER NOT NULL DEFAULT 0;
