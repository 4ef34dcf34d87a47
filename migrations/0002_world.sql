-- World building: locations, regions, connections, NPC-region relationships, scenes, goals,
-- story events (the timeline), prompt template overrides; and the world's active scene.
-- Every table carries session_id, world_id, version, created_at, updated_at (ms since epoch).

-- Play state, not a World field: changed by SetActiveScene only (no world version bump).
ALTER TABLE worlds ADD COLUMN active_scene_id TEXT;

CREATE TABLE locations (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  location_type TEXT NOT NULL DEFAULT 'exterior' CHECK (location_type IN ('interior','exterior','abstract')),
  backdrop_asset_id TEXT,
  map_asset_id TEXT,
  atmosphere TEXT,
  default_region_id TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX locations_session ON locations(session_id, created_at, id);

CREATE TABLE regions (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  location_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  backdrop_asset_id TEXT,
  atmosphere TEXT,
  is_spawn_point INTEGER NOT NULL DEFAULT 0,
  sort_order INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX regions_session ON regions(session_id, created_at, id);
CREATE INDEX regions_location ON regions(session_id, location_id, created_at, id);

CREATE TABLE region_connections (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  from_region_id TEXT NOT NULL,
  to_region_id TEXT NOT NULL,
  bidirectional INTEGER NOT NULL DEFAULT 1,
  is_locked INTEGER NOT NULL DEFAULT 0,
  lock_description TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX region_connections_session ON region_connections(session_id, created_at, id);
CREATE INDEX region_connections_from ON region_connections(session_id, from_region_id);
CREATE INDEX region_connections_to ON region_connections(session_id, to_region_id);

CREATE TABLE npc_region_relationships (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  character_id TEXT NOT NULL,
  region_id TEXT NOT NULL,
  relationship_type TEXT NOT NULL CHECK (relationship_type IN ('home','work','frequents','avoids')),
  notes TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (session_id, character_id, region_id)
);
CREATE INDEX npc_region_relationships_session ON npc_region_relationships(session_id, created_at, id);

CREATE TABLE scenes (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  location_id TEXT,
  time_context TEXT NOT NULL DEFAULT '',
  featured_character_ids TEXT NOT NULL DEFAULT '[]',   -- JSON array of character ids
  backdrop_asset_id TEXT,
  directorial_notes TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX scenes_session ON scenes(session_id, created_at, id);

CREATE TABLE goals (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX goals_session ON goals(session_id, created_at, id);

CREATE TABLE story_events (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  summary TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '{}',          -- JSON object
  character_ids TEXT NOT NULL DEFAULT '[]',    -- JSON array; filtered with json_each
  location_id TEXT,
  region_id TEXT,
  scene_id TEXT,
  game_time TEXT,
  tags TEXT NOT NULL DEFAULT '[]',             -- JSON array
  hidden INTEGER NOT NULL DEFAULT 0,
  created_by TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX story_events_session ON story_events(session_id, created_at, id);
CREATE INDEX story_events_kind ON story_events(session_id, kind, created_at, id);

-- A world's override of one catalogue key; the defaults live in code (src/domain/prompts.ts).
CREATE TABLE prompt_templates (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT,                                  -- NULL after a reset: the default applies
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (session_id, key)
);
CREATE INDEX prompt_templates_session ON prompt_templates(session_id, created_at, id);
