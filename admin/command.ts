/**
 * What an admin CLI command is (admin/cli.ts dispatches `npm run admin -- <noun> <verb> …` to
 * admin/commands/<noun>.ts). A command parses its own arguments and prints through `out`; `--json` asks for
 * one JSON document instead of aligned text. A `UsageError` exits 2 with the command's usage; any other error
 * exits 1 with its message.
 */
import type pg from "pg";

export interface CommandIo {
  db: pg.ClientBase;
  out: (line: string) => void;
  json: boolean;
}

export interface Command {
  /** One line per verb: `tenant create <name>`. */
  usage: string[];
  run(args: string[], io: CommandIo): Promise<void>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A user-facing failure (unknown tenant…): exit 1 with the message, no stack. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}

/** Prints `value` as JSON, or as `key  value` lines aligned on the keys. */
export function print(io: CommandIo, value: Record<string, unknown>): void {
  if (io.json) return io.out(JSON.stringify(value, null, 2));
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  for (const [k, v] of Object.entries(value)) io.out(`${k.padEnd(width)}  ${Array.isArray(v) ? v.join(",") : String(v ?? "-")}`);
}

/** Records an operator action in audit_log (actor `system`, via the CLI). */
export async function audit(db: pg.ClientBase, tenantId: string, action: string, target: { type: string; id: string }, data: Record<string, unknown> = {}) {
  await db.query("insert into audit_log (tenant_id, actor, action, target_type, target_id, data) values ($1, 'system', $2, $3, $4, $5)", [
    tenantId,
    action,
    target.type,
    target.id,
    JSON.stringify({ ...data, via: "admin-cli" }),
  ]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidArg(value: string | undefined, what: string): string {
  if (!value || !UUID.test(value)) throw new UsageError(`${what} must be a UUID`);
  return value;
}
