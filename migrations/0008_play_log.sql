-- The table's play log (ListPlayLog, PlayLogged): one row per entry and audience, written in the
-- same commit as the change it tells. An entry redacted for players is two rows with the same id
-- (audience 'dm' whole, 'non_dm' without what players may not see). Kept apart from the event log,
-- so that trimming the event log or evicting the object loses nothing of it.
CREATE TABLE play_log (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  audience TEXT NOT NULL CHECK (audience IN ('all','dm','non_dm','some')),
  participant_ids TEXT NOT NULL DEFAULT '[]', -- JSON array: audience 'some' (DMs read every row but 'non_dm')
  entry TEXT NOT NULL                         -- JSON PlayLogEntry
);
CREATE INDEX play_log_session ON play_log(session_id, id);
