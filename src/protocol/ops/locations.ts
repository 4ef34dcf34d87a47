import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import {
  LocationEntity,
  NpcRegionRelationshipSchema,
  NpcRegionRelationshipTypeSchema,
  RegionConnectionEntity,
  RegionConnectionSchema,
  RegionEntity,
  RegionSchema,
} from "../world-entities";
import { crudOps } from "./crud";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** What goes with removed regions: their connections, NPC relationships, and the PCs standing there. */
const REGION_CASCADE = ["RegionDeleted", "RegionConnectionDeleted", "NpcRegionRelationshipRemoved", "CharacterUpdated"] as const;

/** Locations, their regions, connections between regions, and where NPCs belong. */
export const LOCATION_OPS = {
  ...crudOps(LocationEntity),
  /** Cascades: the location's regions, their connections and NPC relationships go with it; its scenes stay, without it. */
  DeleteLocation: op({
    access: "dm",
    write: true,
    events: ["LocationDeleted", ...REGION_CASCADE, "SceneUpdated"],
    input: { location_id: Id, ...ExpectedVersion },
    output: Deleted,
  }),

  ListRegions: op({ access: "read", input: { location_id: Id.optional(), ...PageParams }, output: pageOf(RegionSchema) }),
  GetRegion: op({ access: "read", input: { region_id: Id }, output: RegionSchema }),
  CreateRegion: op({
    access: "dm",
    write: true,
    events: ["RegionCreated"],
    input: { location_id: Id, data: RegionEntity.create },
    output: RegionSchema,
  }),
  UpdateRegion: op({
    access: "dm",
    write: true,
    events: ["RegionUpdated"],
    input: { region_id: Id, data: RegionEntity.update, ...ExpectedVersion },
    output: RegionSchema,
  }),
  /** Cascades like DeleteLocation; the location loses it as its default region (LocationUpdated). */
  DeleteRegion: op({
    access: "dm",
    write: true,
    events: [...REGION_CASCADE, "LocationUpdated"],
    input: { region_id: Id, ...ExpectedVersion },
    output: Deleted,
  }),

  ListRegionConnections: op({ access: "read", input: { region_id: Id.optional(), ...PageParams }, output: pageOf(RegionConnectionSchema) }),
  CreateRegionConnection: op({
    access: "dm",
    write: true,
    events: ["RegionConnectionCreated"],
    input: {
      data: RegionConnectionEntity.create.extend({ from_region_id: Id, to_region_id: Id }),
    },
    output: RegionConnectionSchema,
  }),
  /** Lock or unlock a way, or change its direction. */
  UpdateRegionConnection: op({
    access: "dm",
    write: true,
    events: ["RegionConnectionUpdated"],
    input: { region_connection_id: Id, data: RegionConnectionEntity.update, ...ExpectedVersion },
    output: RegionConnectionSchema,
  }),
  DeleteRegionConnection: op({
    access: "dm",
    write: true,
    events: ["RegionConnectionDeleted"],
    input: { region_connection_id: Id, ...ExpectedVersion },
    output: Deleted,
  }),

  ListNpcRegionRelationships: op({
    access: "dm",
    input: { character_id: Id.optional(), region_id: Id.optional(), ...PageParams },
    output: pageOf(NpcRegionRelationshipSchema),
  }),
  /** One relationship per (NPC, region): setting it again replaces its type and notes. */
  SetNpcRegionRelationship: op({
    access: "dm",
    write: true,
    events: ["NpcRegionRelationshipSet"],
    input: { character_id: Id, region_id: Id, relationship_type: NpcRegionRelationshipTypeSchema, notes: z.string().max(2_000).optional() },
    output: NpcRegionRelationshipSchema,
  }),
  RemoveNpcRegionRelationship: op({
    access: "dm",
    write: true,
    events: ["NpcRegionRelationshipRemoved"],
    input: { character_id: Id, region_id: Id },
    output: Deleted,
  }),
} as const;
