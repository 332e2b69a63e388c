/** The API shape of a send config (credentials only ever masked) and the tenant scope of every config query. */
import { and, eq, isNull, type SQL } from "drizzle-orm";
import { sendConfigs, type SendConfig } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { Executor } from "../../adapters/db";

export interface SendConfigView {
  id: string;
  object: "send_config";
  name: string;
  channel: SendConfig["channel"];
  mode: SendConfig["mode"];
  provider: SendConfig["provider"];
  defaults: Record<string, unknown>;
  rateLimitPerSecond: number | null;
  /** BYOK: each value as `••••` + its last 4 characters; null for managed configs. */
  credentials: Record<string, string> | null;
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
}

export function toSendConfigView(c: SendConfig): SendConfigView {
  return {
    id: c.id,
    object: "send_config",
    name: c.name,
    channel: c.channel,
    mode: c.mode,
    provider: c.provider,
    defaults: c.defaults,
    rateLimitPerSecond: c.rateLimitPerSecond,
    credentials: c.mode === "byok" ? (c.credentialsMasked ?? {}) : null,
    isDefault: c.isDefault,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Send configs are account configuration, shared by both key modes: a test key's batches are dry runs through
 * the same configs. Deleted configs do not exist for the API.
 */
export function sendConfigScope(tenantId: string): SQL {
  return and(eq(sendConfigs.tenantId, tenantId), isNull(sendConfigs.deletedAt))!;
}

export async function loadScopedSendConfig(db: Executor, tenantId: string, id: string): Promise<SendConfig> {
  if (!UUID.test(id)) throw new AppError("not_found", `Send config ${id} not found`);
  const [row] = await db.select().from(sendConfigs).where(and(sendConfigScope(tenantId), eq(sendConfigs.id, id)));
  if (!row) throw new AppError("not_found", `Send config ${id} not found`);
  return row;
}
