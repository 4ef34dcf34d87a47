-- Foundation: sessions, worlds, participants, the event log, the request log, characters, inventory.
-- Every world table carries session_id, world_id, version, created_at, updated_at (ms since epoch).

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  world_id TEXT NOT NULL,
  invite_code TEXT NOT NULL UNIQUE,
  settings TEXT NOT NULL,            -- JSON, SessionSettings
  seq INTEGER NOT NULL DEFAULT 0,    -- last event seq committed (recovered on wake)
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE worlds (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  rule_system TEXT NOT NULL DEFAULT '{"system_type":"d20","stat_definitions":[]}',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX worlds_session ON worlds(session_id);

CREATE TABLE participants (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('dm','player','spectator')),
  kicked_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX participants_session ON participants(session_id, created_at, id);

-- The event log: one strictly increasing seq per session, written in the same batch as the change.
CREATE TABLE events (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,                -- JSON of the full (DM) view of the event
  audience TEXT NOT NULL,            -- 'all' | 'dm' | 'non_dm' | 'some'
  recipients TEXT,                   -- JSON array of participant ids when audience = 'some'
  cause_request_id TEXT,
  cause_participant_id TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, seq)
);

-- Exactly-once: (participant, request_id) -> response, committed with the change.
CREATE TABLE request_log (
  session_id TEXT NOT NULL,
  participant_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  response TEXT NOT NULL,            -- JSON of the success result
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, participant_id, request_id)
);
CREATE INDEX request_log_age ON request_log(session_id, created_at);

CREATE TABLE characters (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('npc','pc')),
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  owner_participant_id TEXT,
  hidden INTEGER NOT NULL DEFAULT 0,
  is_alive INTEGER NOT NULL DEFAULT 1,
  is_active INTEGER NOT NULL DEFAULT 1,
  archetype TEXT,
  stats TEXT NOT NULL DEFAULT '{}',
  region_id TEXT,
  portrait_asset_id TEXT,
  sprite_asset_id TEXT,
  dm_notes TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX characters_session ON characters(session_id, created_at, id);

CREATE TABLE inventory_items (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  character_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  item_type TEXT NOT NULL DEFAULT 'misc',
  quantity INTEGER NOT NULL DEFAULT 1,
  equipped INTEGER NOT NULL DEFAULT 0,
  properties TEXT NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX inventory_character ON inventory_items(session_id, character_id, created_at, id);

-- Per-session operation counters, flushed by the session object; summed by GET /metrics.
CREATE TABLE op_metrics (
  session_id TEXT NOT NULL,
  op TEXT NOT NULL,
  code TEXT NOT NULL,                -- 'OK' or an error code
  count INTEGER NOT NULL DEFAULT 0,
  duration_ms_sum REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (session_id, op, code)
);
CREATE TABLE session_gauges (
  session_id TEXT PRIMARY KEY,
  sockets INTEGER NOT NULL DEFAULT 0,
  replayed_requests INTEGER NOT NULL DEFAULT 0,
  replayed_events INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
