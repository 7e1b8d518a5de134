/** The `group …` commands: create, list, show, destroy and group tokens. */
import { bool, list, str } from "./args.js";
import type { GroupView } from "./backend.js";
import { type Command, type CommandContext, confirm, JSON_FLAG } from "./command.js";
import { jsonText, table } from "./output.js";

const YES = { type: "boolean", short: "y", help: "do not ask for confirmation" } as const;
const pos = (ctx: CommandContext, i: number): string => ctx.args.positionals[i]!;

const create: Command = {
  name: "group create",
  usage: "<name>",
  summary: "create a group of databases",
  flags: {
    location: { type: "string", help: "<location> recorded location (default local)" },
    json: JSON_FLAG,
  },
  positionals: [1, 1],
  examples: ["tenantlite group create eu"],
  usesBackend: true,
  async run(ctx) {
    const g = await (await ctx.backend()).createGroup(pos(ctx, 0), str(ctx.args, "location"));
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
    const g: GroupView = await backend.getGroup(pos(ctx, 0));
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
  flags: { yes: YES },
  positionals: [1, 1],
  examples: ["tenantlite group destroy eu --yes"],
  usesBackend: true,
  async run(ctx) {
    const name = pos(ctx, 0);
    const backend = await ctx.backend();
    await backend.getGroup(name);
    await confirm(ctx, `Destroy group ${name} and all its databases?`, `destroying group ${name}`);
    await backend.deleteGroup(name);
    ctx.out(`Destroyed group ${name}.\n`);
    return 0;
  },
};

const tokensCreate: Command = {
  name: "group tokens create",
  usage: "<group>",
  summary: "mint a token for every database of a group",
  flags: {
    expiration: {
      type: "string",
      help: "<when> 'never' (default) or a duration such as 2w, 7d, 1h30m",
    },
    "read-only": { type: "boolean", help: "the token can only read" },
    attach: { type: "string", help: "<a,b> databases the token may ATTACH (read-only)" },
  },
  positionals: [1, 1],
  examples: ["tenantlite group tokens create default --expiration 7d --read-only"],
  usesBackend: true,
  async run(ctx) {
    const backend = await ctx.backend();
    const expiration = str(ctx.args, "expiration");
    const attach = list(ctx.args, "attach");
    for (const n of attach) await backend.getDatabase(n);
    const jwt = await backend.createGroupToken(pos(ctx, 0), {
      ...(expiration === undefined ? {} : { expiration }),
      readOnly: bool(ctx.args, "read-only"),
      attach,
    });
    ctx.out(`${jwt}\n`);
    return 0;
  },
};

const tokensInvalidate: Command = {
  name: "group tokens invalidate",
  usage: "<group>",
  summary: "invalidate every token of a group and of its databases",
  flags: { yes: YES },
  positionals: [1, 1],
  examples: ["tenantlite group tokens invalidate default --yes"],
  usesBackend: true,
  async run(ctx) {
    const name = pos(ctx, 0);
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
  tokensCreate,
  tokensInvalidate,
];
