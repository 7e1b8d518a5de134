/** The `group …` commands: create, list, show, destroy and group tokens. */
import { bool, str } from "./args.js";
import type { GroupView } from "./backend.js";
import {
  type Command,
  confirm,
  JSON_FLAG,
  positional,
  TOKEN_FLAGS,
  tokenOptions,
  YES_FLAG,
} from "./command.js";
import { protectionAction, withProtectionHint } from "./delete-protection.js";
import { jsonText, table } from "./output.js";

const create: Command = {
  name: "group create",
  usage: "<name>",
  summary: "create a group of databases",
  flags: {
    location: {
      type: "string",
      help: "<location> the group's location: local, the only one (the default)",
    },
    json: JSON_FLAG,
  },
  positionals: [1, 1],
  examples: ["tenantlite group create eu"],
  usesBackend: true,
  async run(ctx) {
    const g = await (await ctx.backend()).createGroup(
      positional(ctx, 0),
      str(ctx.args, "location"),
    );
    if (bool(ctx.args, "json")) ctx.out(jsonText(g));
    else ctx.out(`Created group ${g.name} at ${g.location}.\n`);
    return 0;
  },
};

const listCmd: Command = {
  name: "group list",
  usage: "",
  summary: "list groups",
  flags: { json: JSON_FLAG },
  positionals: [0, 0],
  examples: ["tenantlite group list", "tenantlite group list --json"],
  usesBackend: true,
  async run(ctx) {
    const groups = await (await ctx.backend()).listGroups();
    if (bool(ctx.args, "json")) ctx.out(jsonText(groups));
    else
      ctx.out(
        table(
          ["NAME", "LOCATION", "ID"],
          groups.map((g) => [g.name, g.location, g.id]),
        ),
      );
    return 0;
  },
};

const show: Command = {
  name: "group show",
  usage: "<name>",
  summary: "show a group and its databases",
  flags: { json: JSON_FLAG },
  positionals: [1, 1],
  examples: ["tenantlite group show default"],
  usesBackend: true,
  async run(ctx) {
    const backend = await ctx.backend();
    const g: GroupView = await backend.getGroup(positional(ctx, 0));
    const dbs = await backend.listDatabases({ group: g.name });
    if (bool(ctx.args, "json")) {
      ctx.out(jsonText({ ...g, databases: dbs.map((d) => d.name) }));
      return 0;
    }
    ctx.out(
      table(undefined, [
        ["Name:", g.name],
        ["ID:", g.id],
        ["Location:", g.location],
        ["Delete protection:", g.delete_protection ? "yes" : "no"],
        ["Databases:", dbs.length === 0 ? "-" : dbs.map((d) => d.name).join(", ")],
      ]),
    );
    return 0;
  },
};

const destroy: Command = {
  name: "group destroy",
  usage: "<name>",
  summary: "delete a group and every database in it",
  flags: { yes: YES_FLAG },
  positionals: [1, 1],
  examples: ["tenantlite group destroy eu --yes"],
  usesBackend: true,
  async run(ctx) {
    const name = positional(ctx, 0);
    const backend = await ctx.backend();
    await backend.getGroup(name);
    await confirm(ctx, `Destroy group ${name} and all its databases?`, `destroying group ${name}`);
    await backend.deleteGroup(name).catch((e: unknown) => {
      throw withProtectionHint(e);
    });
    ctx.out(`Destroyed group ${name}.\n`);
    return 0;
  },
};

const configDeleteProtection: Command = {
  name: "group config delete-protection",
  usage: "enable|disable|show <group>",
  summary: "switch a group's delete protection (a protected group cannot be destroyed)",
  flags: {},
  positionals: [2, 2],
  examples: [
    "tenantlite group config delete-protection enable default",
    "tenantlite group config delete-protection show default",
  ],
  usesBackend: true,
  async run(ctx) {
    const action = protectionAction(ctx, "group config delete-protection");
    const name = positional(ctx, 1);
    const backend = await ctx.backend();
    const group = await backend.getGroup(name);
    if (action === "show") {
      ctx.out(`Delete Protection ${group.delete_protection ? "on" : "off"}\n`);
      return 0;
    }
    await backend.updateGroupConfig(name, { delete_protection: action === "enable" });
    ctx.out(`Delete protection ${action === "enable" ? "on" : "off"} for group ${name}.\n`);
    return 0;
  },
};

const tokensCreate: Command = {
  name: "group tokens create",
  usage: "<group>",
  summary: "mint a token for every database of a group",
  flags: TOKEN_FLAGS,
  positionals: [1, 1],
  examples: ["tenantlite group tokens create default --expiration 7d --read-only"],
  usesBackend: true,
  async run(ctx) {
    const backend = await ctx.backend();
    const o = tokenOptions(ctx);
    for (const n of o.attach) await backend.getDatabase(n);
    ctx.out(`${await backend.createGroupToken(positional(ctx, 0), o)}\n`);
    return 0;
  },
};

const tokensInvalidate: Command = {
  name: "group tokens invalidate",
  usage: "<group>",
  summary: "invalidate every token of a group and of its databases",
  flags: { yes: YES_FLAG },
  positionals: [1, 1],
  examples: ["tenantlite group tokens invalidate default --yes"],
  usesBackend: true,
  async run(ctx) {
    const name = positional(ctx, 0);
    const backend = await ctx.backend();
    await backend.getGroup(name);
    await confirm(
      ctx,
      `Invalidate all tokens of group ${name}?`,
      `invalidating the tokens of ${name}`,
    );
    await backend.invalidateGroupTokens(name);
    ctx.out(`Invalidated all tokens of group ${name}.\n`);
    return 0;
  },
};

/** Every `group` command. */
export const GROUP_COMMANDS: readonly Command[] = [
  create,
  listCmd,
  show,
  destroy,
  configDeleteProtection,
  tokensCreate,
  tokensInvalidate,
];
