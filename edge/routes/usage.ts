/** GET /v1/usage: the tenant's current use of each quota against its limit (scope `batches:read`). */
import { createRoute, z } from "@hono/zod-openapi";
import { QUOTA_NAMES } from "../../core/domain/quotas";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { readTenantUsage } from "../services/quotas";
import { json, Timestamp } from "./batch-schemas";
import { problems } from "./shared-schemas";

export const usageRoutes = openApiApp();

const QuotaUse = z
  .object({
    limit: z.number().int(),
    used: z.number().int(),
    resetsAt: Timestamp.nullable().openapi({ description: "When the quota resets; null when it frees up as batches finish" }),
  })
  .openapi("QuotaUse");

const Usage = z
  .object({
    object: z.literal("usage"),
    quotas: z.object(Object.fromEntries(QUOTA_NAMES.map((q) => [q, QuotaUse])) as Record<(typeof QUOTA_NAMES)[number], typeof QuotaUse>),
  })
  .openapi("Usage", {
    description:
      "active_batches: batches not finished (draft, scheduled, queued, processing, paused); pending_recipients: their " +
      "recipients without an outcome; sends_per_day: recipients of live (not dry-run) batches sent today (UTC), counted when the batch is sent.",
  });

const usageRoute = createRoute({
  operationId: "getUsage",
  method: "get",
  path: "/",
  tags: ["Usage"],
  summary: "Current use of each quota against the tenant's limits",
  description: "Quotas are per tenant: test and live keys see the same numbers.",
  security: [{ apiKey: [] }],
  responses: { 200: json(Usage, "Use and limits"), ...problems() },
});

usageRoutes.openapi(usageRoute, async (c) => c.json({ object: "usage" as const, quotas: await readTenantUsage(c.get("db"), c.get("caller").tenantId) }, 200));
usageRoutes.all("/", methodNotAllowed(["GET"]));
