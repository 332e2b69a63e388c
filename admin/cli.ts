/**
 * The operators' CLI: `npm run admin -- <noun> <verb> [args] [--json]`, against DATABASE_URL. One line per
 * noun below; each lives in admin/commands/<noun>.ts (admin/command.ts says what a command is).
 */
import pg from "pg";
import { CommandError, UsageError, type Command } from "./command";
import { domainCommand } from "./commands/domain";
import { keyCommand } from "./commands/key";
import { quotaCommand } from "./commands/quota";
import { tenantCommand } from "./commands/tenant";

const commands: Record<string, Command> = {
  tenant: tenantCommand,
  key: keyCommand,
  quota: quotaCommand,
  domain: domainCommand,
};

function usage(): string {
  const lines = Object.values(commands).flatMap((c) => c.usage);
  return ["usage: npm run admin -- <command> [--json]   (uses DATABASE_URL)", ...lines.map((l) => `  ${l}`)].join("\n");
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const json = argv.includes("--json");
  const [noun, ...args] = argv.filter((a) => a !== "--json");
  const command = noun ? commands[noun] : undefined;
  if (!command || noun === "help" || argv.includes("--help")) {
    console.error(noun && !command && noun !== "help" ? `unknown command ${noun}\n${usage()}` : usage());
    return 2;
  }
  if (!env.DATABASE_URL) {
    console.error("DATABASE_URL is not set: the admin CLI works on the database it names");
    return 2;
  }
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  try {
    await db.connect();
    await command.run(args, { db, json, out: (line) => console.log(line) });
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\nusage:\n${command.usage.map((l) => `  npm run admin -- ${l}`).join("\n")}`);
      return 2;
    }
    if (err instanceof CommandError) {
      console.error(err.message);
      return 1;
    }
    if (err instanceof TypeError && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${err.message}\nusage:\n${command.usage.map((l) => `  npm run admin -- ${l}`).join("\n")}`);
      return 2;
    }
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    await db.end().catch(() => {});
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
