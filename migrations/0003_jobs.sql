-- Jobs: long-running work (LLM answers, image generations) recorded in the same commit as the
-- events of the request that started it, run outside the session's write queue, and finished by a
-- committed write of its own. Rows stay as the history of what ran.

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','running','succeeded','failed','cancelled')),
  input TEXT NOT NULL DEFAULT 'null',    -- JSON, the kind's input
  output TEXT NOT NULL DEFAULT 'null',   -- JSON, the kind's result once succeeded
  error TEXT NOT NULL DEFAULT 'null',    -- JSON, ErrorBody once failed or cancelled
  audience TEXT NOT NULL,                -- JSON, who receives its events and stream (Audience)
  started_by TEXT,                       -- participant whose request started it
  attempts INTEGER NOT NULL DEFAULT 0,   -- runs started (resumes after a restart count too)
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_session ON jobs(session_id, created_at, id);
-- Recovery after a restart looks for unfinished jobs.
CREATE INDEX jobs_open ON jobs(session_id, status) WHERE status IN ('queued','running');
