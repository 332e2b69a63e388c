/**
 * createApiKey: a new key for the caller's tenant. The secret is generated here (core/domain/api-keys.ts),
 * returned once and stored only as its sha-256. A key can grant only scopes it holds itself, and a test key
 * only test keys (it must not mint access to live data).
 */
import { z } from "@hono/zod-openapi";
import { apiKeys, auditLog } from "../../../core/db/schema";
import { generateApiKey } from "../../../core/domain/api-keys";
import { AppError } from "../../../core/domain/problem";
import { SCOPES, ungrantableScopes } from "../../../core/domain/scopes";
import type { ServiceCtx } from "../service-ctx";
import { toApiKeyView, type ApiKeyView } from "./api-key-view";

export const CreateApiKeyInput = z.object({
  name: z.string().trim().min(1).max(100).openapi({ example: "CI deploys" }),
  scopes: z
    .array(z.enum(SCOPES))
    .min(1)
    .max(SCOPES.length)
    .refine((s) => new Set(s).size === s.length, "scopes must not repeat")
    .openapi({ example: ["batches:read", "batches:write"] }),
  mode: z.enum(["live", "test"]).optional().openapi({ description: "Defaults to the calling key's mode; a test key creates only test keys" }),
  expiresAt: z.iso
    .datetime({ offset: true })
    .optional()
    .refine((v) => v === undefined || Date.parse(v) > Date.now(), "expiresAt must be in the future")
    .openapi({ example: "2027-06-30T00:00:00Z" }),
});
export type CreateApiKeyInput = z.infer<typeof CreateApiKeyInput>;

export type CreatedApiKey = ApiKeyView & { secret: string | null };

export async function createApiKey({ ctx, input }: { ctx: ServiceCtx; input: CreateApiKeyInput }): Promise<CreatedApiKey> {
  const mode = input.mode ?? ctx.mode;
  if (ctx.mode === "test" && mode === "live") {
    throw new AppError("forbidden", "A test key cannot create live keys");
  }
  const missing = ungrantableScopes(ctx.scopes ?? [], input.scopes);
  if (missing.length) {
    throw new AppError("forbidden", `This API key cannot grant scopes it does not hold: ${missing.join(", ")}`, { members: { scope: missing[0] } });
  }
  const key = await generateApiKey(mode);
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        tenantId: ctx.tenantId,
        name: input.name,
        prefix: key.prefix,
        keyHash: key.hash,
        mode,
        scopes: input.scopes,
        expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
      })
      .returning();
    await tx.insert(auditLog).values({
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "api_key.created",
      targetType: "api_key",
      targetId: row!.id,
      data: { name: input.name, scopes: input.scopes, mode },
      requestId: ctx.requestId ?? null,
    });
    return { ...toApiKeyView(row!), secret: key.key };
  });
}
