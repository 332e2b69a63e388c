/**
 * `key create <tenant-id> [--name N] [--scopes a,b] [--mode live|test] [--expires ISO]` and `key revoke <key-id>`.
 * Keys as the API makes them (core/domain/api-keys.ts: shown once, stored as sha-256); scopes from
 * core/domain/scopes.ts, `admin` by default for operator-made keys.
 */
import { parseArgs } from "node:util";
import type pg from "pg";
import { generateApiKey, type ApiKeyMode } from "../../core/domain/api-keys";
import { isScope, SCOPES, type Scope } from "../../core/domain/scopes";
import { audit, CommandError, print, UsageError, uuidArg, type Command } from "../command";

export interface CreatedKey {
  id: string;
  secret: string;
  prefix: string;
  mode: ApiKeyMode;
  scopes: Scope[];
}

export async function createKey(
  db: pg.ClientBase,
  input: { tenantId: string; name: string; scopes: Scope[]; mode: ApiKeyMode; expiresAt?: Date },
): Promise<CreatedKey> {
  if (!input.scopes.length) throw new UsageError("a key needs at least one scope");
  const key = await generateApiKey(input.mode);
  const { rows } = await db.query<{ id: string }>(
    `insert into api_keys (tenant_id, name, prefix, key_hash, mode, scopes, expires_at)
     select id, $2, $3, $4, $5, $6::text[], $7 from tenants where id = $1 returning id`,
    [input.tenantId, input.name, key.prefix, key.hash, key.mode, input.scopes, input.expiresAt ?? null],
  );
  if (!rows[0]) throw new CommandError(`no tenant ${input.tenantId}`);
  await audit(db, input.tenantId, "api_key.created", { type: "api_key", id: rows[0].id }, { name: input.name, scopes: input.scopes, mode: input.mode });
  return { id: rows[0].id, secret: key.key, prefix: key.prefix, mode: key.mode, scopes: input.scopes };
}

export async function revokeKey(db: pg.ClientBase, keyId: string): Promise<{ tenantId: string; revokedAt: Date }> {
  const { rows } = await db.query<{ tenant_id: string; revoked_at: Date }>(
    "update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 returning tenant_id, revoked_at",
    [keyId],
  );
  if (!rows[0]) throw new CommandError(`no API key ${keyId}`);
  await audit(db, rows[0].tenant_id, "api_key.revoked", { type: "api_key", id: keyId });
  return { tenantId: rows[0].tenant_id, revokedAt: rows[0].revoked_at };
}

function parseScopes(value: string): Scope[] {
  const scopes = [...new Set(value.split(",").map((s) => s.trim()).filter(Boolean))];
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length) throw new UsageError(`unknown scope ${unknown.join(", ")} (scopes: ${SCOPES.join(", ")})`);
  return scopes as Scope[];
}

export const keyCommand: Command = {
  usage: [
    `key create <tenant-id> [--name <name>] [--scopes ${SCOPES.join(",")}] [--mode live|test] [--expires <ISO 8601>]`,
    "key revoke <key-id>",
  ],
  async run(args, io) {
    const [verb, ...rest] = args;
    if (verb === "create") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { name: { type: "string" }, scopes: { type: "string" }, mode: { type: "string" }, expires: { type: "string" } },
      });
      const tenantId = uuidArg(positionals[0], "tenant-id");
      const mode = values.mode ?? "live";
      if (mode !== "live" && mode !== "test") throw new UsageError("--mode must be live or test");
      const expiresAt = values.expires === undefined ? undefined : new Date(values.expires);
      if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) throw new UsageError("--expires must be a future ISO 8601 time");
      const key = await createKey(io.db, { tenantId, name: values.name ?? "admin CLI", scopes: parseScopes(values.scopes ?? "admin"), mode, expiresAt });
      return print(io, { id: key.id, key: key.secret, mode: key.mode, scopes: key.scopes });
    }
    if (verb === "revoke") {
      const keyId = uuidArg(rest[0], "key-id");
      const { revokedAt } = await revokeKey(io.db, keyId);
      return print(io, { id: keyId, revokedAt: revokedAt.toISOString() });
    }
    throw new UsageError(`unknown verb key ${verb ?? ""}`.trim());
  },
};
