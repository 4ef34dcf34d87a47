import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import {
  LocationFieldsSchema,
  LocationSchema,
  NpcRegionRelationshipSchema,
  NpcRegionRelationshipTypeSchema,
  RegionConnectionFieldsSchema,
  RegionConnectionSchema,
  RegionFieldsSchema,
  RegionSchema,
} from "../world-entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** Locations, their regions, connections between regions, and where NPCs belong. */
export const LOCATION_OPS = {
  ListLocations: op({ ...PageParams }, pageOf(LocationSchema)),
  GetLocation: op({ location_id: Id }, LocationSchema),
  CreateLocation: op({ data: LocationFieldsSchema.partial().required({ name: true }).strict() }, LocationSchema),
  UpdateLocation: op({ location_id: Id, data: LocationFieldsSchema.partial().strict(), ...ExpectedVersion }, LocationSchema),
  /** Cascades: the location's regions, their connections and NPC relationships go with it. */
  DeleteLocation: op({ location_id: Id, ...ExpectedVersion }, Deleted),

  ListRegions: op({ location_id: Id.optional(), ...PageParams }, pageOf(RegionSchema)),
  GetRegion: op({ region_id: Id }, RegionSchema),
  CreateRegion: op({ location_id: Id, data: RegionFieldsSchema.partial().required({ name: true }).strict() }, RegionSchema),
  UpdateRegion: op({ region_id: Id, data: RegionFieldsSchema.partial().strict(), ...ExpectedVersion }, RegionSchema),
  DeleteRegion: op({ region_id: Id, ...ExpectedVersion }, Deleted),

  ListRegionConnections: op({ region_id: Id.optional(), ...PageParams }, pageOf(RegionConnectionSchema)),
  CreateRegionConnection: op(
    {
      data: RegionConnectionFieldsSchema.partial()
        .extend({ from_region_id: Id, to_region_id: Id })
        .strict(),
    },
    RegionConnectionSchema,
  ),
  /** Lock or unlock a way, or change its direction. */
  UpdateRegionConnection: op(
    { region_connection_id: Id, data: RegionConnectionFieldsSchema.partial().strict(), ...ExpectedVersion },
    RegionConnectionSchema,
  ),
  DeleteRegionConnection: op({ region_connection_id: Id, ...ExpectedVersion }, Deleted),

  ListNpcRegionRelationships: op(
    { character_id: Id.optional(), region_id: Id.optional(), ...PageParams },
    pageOf(NpcRegionRelationshipSchema),
  ),
  /** One relationship per (NPC, region): setting it again replaces its type and notes. */
  SetNpcRegionRelationship: op(
    { character_id: Id, region_id: Id, relationship_type: NpcRegionRelationshipTypeSchema, notes: z.string().max(2_000).optional() },
    NpcRegionRelationshipSchema,
  ),
  RemoveNpcRegionRelationship: op({ character_id: Id, region_id: Id }, Deleted),
} as const;
