/**
 * /v1/batches/{id}/{send,resume,retry,pause,cancel}: the lifecycle verbs. 202 when work was handed to the
 * pipeline, 200 when only state changed; 409 names the batch's current state.
 */
import { createRoute } from "@hono/zod-openapi";
import { openApiApp } from "../http/openapi-app";
import { idempotency } from "../middleware/idempotency";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { cancelBatch, pauseBatch, resumeBatch, retryBatch, sendBatch} from "../services/batches";
import { Batch, json } from "./batch-schemas";
import { BatchIdParams, IdempotencyHeaders, problems } from "./shared-schemas";

export const batchTransitionRoutes = openApiApp();

type Verb = typeof sendBatch;

function routeFor(action: string, summary: string) {
  return {
    method: "post" as const,
    path: `/{id}/${action}`,
    operationId: `${action}Batch`,
    tags: ["Lifecycle"],
    summary,
    security: [{ apiKey: [] }],
    middleware: idempotency,
    request: { params: BatchIdParams, headers: IdempotencyHeaders },
  };
}

/** Work handed to the pipeline: 202. */
const accepted: [string, Verb, string][] = [
  ["send", sendBatch, "Send a draft now, or at its scheduledAt"],
  ["resume", resumeBatch, "Resume a paused batch"],
  ["retry", retryBatch, "Retry the failed recipients of a finished batch"],
];
/** Only state changed: 200. */
const changed: [string, Verb, string][] = [
  ["pause", pauseBatch, "Pause a queued or processing batch"],
  ["cancel", cancelBatch, "Cancel a batch; unsent recipients are cancelled"],
];

for (const [action, verb, summary] of accepted) {
  const route = createRoute({ ...routeFor(action, summary), responses: { 202: json(Batch, "The batch after the transition"), ...problems(404, 409, 422) } });
  batchTransitionRoutes.openapi(route, async (c) => {
    const result = await verb({ ctx: serviceCtxOf(c), input: { batchId: c.req.valid("param").id } });
    return c.json(result.batch, 202);
  });
  batchTransitionRoutes.all(`/:id/${action}`, methodNotAllowed(["POST"]));
}
for (const [action, verb, summary] of changed) {
  const route = createRoute({ ...routeFor(action, summary), responses: { 200: json(Batch, "The batch after the transition"), ...problems(404, 409, 422) } });
  batchTransitionRoutes.openapi(route, async (c) => {
    const result = await verb({ ctx: serviceCtxOf(c), input: { batchId: c.req.valid("param").id } });
    return c.json(result.batch, 200);
  });
  batchTransitionRoutes.all(`/:id/${action}`, methodNotAllowed(["POST"]));
}
