-- Images: metadata of the session's assets (the bytes live in R2 under
-- sessions/<session>/assets/<asset>) and the image generation batches (one per job).

CREATE TABLE assets (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  width INTEGER,
  height INTEGER,
  label TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]',       -- JSON string[]
  depicts TEXT NOT NULL DEFAULT 'null',  -- JSON {kind, id} or null
  source TEXT NOT NULL CHECK (source IN ('upload','generated','import')),
  created_by TEXT,                       -- participant id (null: the session itself)
  generation_id TEXT,                    -- the batch that made it
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX assets_session ON assets(session_id, created_at, id);

CREATE TABLE generation_batches (
  id TEXT PRIMARY KEY,                   -- = the job id
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled')),
  provider TEXT NOT NULL,
  request TEXT NOT NULL,                 -- JSON, the StartGeneration request
  prompt_ids TEXT NOT NULL DEFAULT '[]', -- JSON string[], minted before anything is sent
  submitted TEXT NOT NULL DEFAULT '[]',  -- JSON string[], the prompt ids the provider accepted
  asset_ids TEXT NOT NULL DEFAULT '[]',  -- JSON string[], the images stored so far
  completed INTEGER NOT NULL DEFAULT 0,
  total INTEGER NOT NULL,
  reason TEXT,                           -- why it failed or was cancelled
  created_by TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX generation_batches_session ON generation_batches(session_id, created_at, id);
