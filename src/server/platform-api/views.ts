/**
 * How the Platform API shows tenantlite's records: the JSON shapes of Turso's databases, groups,
 * instances, configurations and organization, as `@tursodatabase/api` and the Turso CLI read them.
 */
import type { DatabaseInfo, GroupInfo } from "../../platform/types.js";
import { formatSizeLimit } from "../size-limit.js";

/** The only organization a local server has. */
export const ORG = "local";
/** Version string shown in database and group objects. */
export const VERSION = "tenantlite-0.1.0";
/** The only location: where the server runs. */
export const LOCATIONS = { local: "Local machine (tenantlite)" };

export function organizationJson() {
  return {
    name: ORG,
    slug: ORG,
    type: "personal",
    overages: false,
    blocked_reads: false,
    blocked_writes: false,
    plan_id: "local",
  };
}

/** A database's host name as Turso gives it, on this server's port: `<name>.localhost:<port>`. */
export function hostname(info: DatabaseInfo, host: string): string {
  const port = /:(\d+)$/.exec(host)?.[1];
  return `${info.name}.localhost${port === undefined ? "" : `:${port}`}`;
}

export function databaseJson(info: DatabaseInfo, host: string) {
  return {
    Name: info.name,
    DbId: info.id,
    Hostname: hostname(info, host),
    block_reads: info.config.block_reads,
    block_writes: info.config.block_writes,
    allow_attach: info.config.allow_attach,
    regions: ["local"],
    primaryRegion: "local",
    type: "logical",
    version: VERSION,
    group: info.group,
    is_schema: info.type === "schema",
    schema: info.parent ?? undefined,
    archived: false,
    delete_protection: info.config.delete_protection,
    encrypted: info.encrypted,
    sleeping: false,
    database_type: "sqlite",
  };
}

/** What creating a database answers: `{DbId, Hostname, Name}`. */
export function createdJson(info: DatabaseInfo, host: string) {
  return { DbId: info.id, Hostname: hostname(info, host), Name: info.name };
}

export function instanceJson(info: DatabaseInfo, host: string) {
  return {
    uuid: info.id,
    name: "local",
    type: "primary",
    region: "local",
    hostname: hostname(info, host),
  };
}

export function configJson(info: DatabaseInfo) {
  return {
    size_limit: formatSizeLimit(info.sizeLimit),
    allow_attach: info.config.allow_attach,
    block_reads: info.config.block_reads,
    block_writes: info.config.block_writes,
    delete_protection: info.config.delete_protection,
    allowed_ips: [],
    allowed_aws_vpc_ids: [],
  };
}

export function groupJson(g: GroupInfo) {
  return {
    name: g.name,
    uuid: g.id,
    version: VERSION,
    locations: [g.location],
    primary: g.location,
    archived: false,
    delete_protection: g.delete_protection,
  };
}
