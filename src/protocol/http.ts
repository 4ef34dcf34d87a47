import { z } from "zod";
import { RoleSchema } from "./entities";
import type { EventType } from "./events";

/** Bodies of the HTTP auth routes (DESIGN.md §2). */
export const CreateSessionBodySchema = z.strictObject({
  world_name: z.string().trim().min(1).max(200),
  dm_name: z.string().trim().min(1).max(100),
});
export const JoinBodySchema = z.strictObject({
  invite_code: z.string().trim().min(4).max(64),
  name: z.string().trim().min(1).max(100),
  role: z.enum(["player", "spectator"]).optional(),
});
export const RefreshBodySchema = z.strictObject({ token: z.string().min(10).max(4096) }).partial();

export const TokenClaimsSchema = z.object({
  sid: z.string(),
  pid: z.string(),
  role: RoleSchema,
  iat: z.number().int(),
  exp: z.number().int(),
});
export type TokenClaims = z.infer<typeof TokenClaimsSchema>;

export const AuthGrantSchema = z.object({
  session_id: z.string(),
  world_id: z.string(),
  participant_id: z.string(),
  role: RoleSchema,
  token: z.string(),
  expires_at: z.number().int(),
  ws_url: z.string(),
  invite_code: z.string().optional(),
});
export type AuthGrant = z.infer<typeof AuthGrantSchema>;

/**
 * The events POST /assets may cause (committed through the session's write pipeline like any
 * operation's): the new asset, and the target entity whose image it became.
 */
export const UPLOAD_EVENTS = ["AssetCreated", "CharacterUpdated", "LocationUpdated", "RegionUpdated", "SceneUpdated"] as const satisfies readonly EventType[];
