-- Dialogue: a player's words to an NPC and the NPC's answer (an exchange, drafted by an LLM job,
-- approved by a DM when the session asks for it), and the conversation turns it leaves behind.

CREATE TABLE dialogue_exchanges (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  npc_id TEXT NOT NULL,
  character_id TEXT NOT NULL,            -- the PC spoken for
  participant_id TEXT NOT NULL,          -- who spoke (the PC's player, or a DM)
  player_text TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('generating','awaiting_approval','answered','failed')),
  approval INTEGER NOT NULL DEFAULT 1,   -- the answer waits for a DM (dialogue_approval when spoken)
  job_id TEXT,                           -- the job drafting the answer now (or last)
  attempts INTEGER NOT NULL DEFAULT 1,   -- drafts asked for (a rejection asks again)
  text TEXT,                             -- the answer everyone got, once answered
  source TEXT CHECK (source IS NULL OR source IN ('llm','dm_edit','dm')),
  provider TEXT,
  model TEXT,
  error TEXT NOT NULL DEFAULT 'null',    -- JSON ErrorBody once failed
  dm_draft TEXT,                         -- DM only: the draft awaiting approval
  dm_reasoning TEXT,                     -- DM only: the model's reasons
  dm_feedback TEXT,                      -- DM only: why the last draft was rejected
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX dialogue_exchanges_session ON dialogue_exchanges(session_id, created_at, id);
CREATE INDEX dialogue_exchanges_open ON dialogue_exchanges(session_id, status) WHERE status IN ('generating','awaiting_approval');

CREATE TABLE dialogue_turns (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  world_id TEXT NOT NULL,
  exchange_id TEXT NOT NULL,
  npc_id TEXT NOT NULL,
  character_id TEXT NOT NULL,
  speaker TEXT NOT NULL CHECK (speaker IN ('pc','npc')),
  text TEXT NOT NULL,
  provider TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX dialogue_turns_conversation ON dialogue_turns(session_id, npc_id, character_id, created_at, id);
CREATE INDEX dialogue_turns_session ON dialogue_turns(session_id, created_at, id);
