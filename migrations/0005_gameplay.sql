-- Gameplay rules: NPC wants and actantial views (DM only), challenges and their attempts,
-- stagings (who is present in a region). Same conventions as 0002_world.sql.

CREATE TABLE wants (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  character_id TEXT NOT NULL,
  description TEXT NOT NULL,
  intensity REAL NOT NULL DEFAULT 0.5,
  visibility TEXT NOT NULL DEFAULT 'hidden' CHECK (visibility IN ('known','suspected','hidden')),
  deflection_behavior TEXT,
  tells TEXT NOT NULL DEFAULT '[]',      -- JSON array of strings
  priority INTEGER NOT NULL DEFAULT 1,
  target TEXT NOT NULL DEFAULT 'null',   -- JSON WantTarget or null
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX wants_session ON wants(session_id, created_at, id);
CREATE INDEX wants_character ON wants(session_id, character_id);

CREATE TABLE actantial_views (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  character_id TEXT NOT NULL,
  want_id TEXT NOT NULL,
  target_character_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('helper','opponent','sender','receiver')),
  reason TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX actantial_views_session ON actantial_views(session_id, created_at, id);
CREATE INDEX actantial_views_character ON actantial_views(session_id, character_id);

CREATE TABLE challenges (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  check_stat TEXT,
  difficulty TEXT NOT NULL,              -- JSON Difficulty
  outcomes TEXT NOT NULL,                -- JSON {success, failure, partial, critical}
  hidden INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX challenges_session ON challenges(session_id, created_at, id);

CREATE TABLE challenge_attempts (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  challenge_id TEXT NOT NULL,
  character_id TEXT NOT NULL,
  participant_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('prompted','rolled','resolved')),
  suggested_dice TEXT NOT NULL,
  roll TEXT NOT NULL DEFAULT 'null',     -- JSON DiceRoll
  modifier REAL NOT NULL DEFAULT 0,
  total REAL,
  suggested_outcome TEXT,
  outcome TEXT,
  narration TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX challenge_attempts_session ON challenge_attempts(session_id, created_at, id);
CREATE INDEX challenge_attempts_open ON challenge_attempts(session_id, challenge_id, status);

CREATE TABLE stagings (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  region_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','approved')),
  proposal TEXT NOT NULL DEFAULT '[]',   -- JSON StagedNpc[]
  npcs TEXT NOT NULL DEFAULT '[]',       -- JSON StagedNpc[]
  source TEXT,
  ttl_minutes INTEGER,
  approved_at INTEGER,
  expires_at INTEGER,
  approved_by TEXT,
  waiting_character_ids TEXT NOT NULL DEFAULT '[]',
  auto_approve_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX stagings_session ON stagings(session_id, created_at, id);
CREATE INDEX stagings_region ON stagings(session_id, region_id, status);
