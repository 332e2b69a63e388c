/** /v1/batches: thin handlers over the batch verbs (edge/services/batches). */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../../core/domain/problem";
import type { AppEnv } from "../hono-env";
import { MAX_BODY_BYTES, parseOrThrow, readJson } from "../http/json-body";
import { methodNotAllowed } from "../http/problem";
import {
  appendRecipients,
  AppendRecipientsInput,
  cancelBatch,
  createBatch,
  CreateBatchInput,
  getBatch,
  listBatches,
  ListBatchesInput,
  listRecipients,
  ListRecipientsInput,
  pauseBatch,
  resumeBatch,
  retryBatch,
  sendBatch,
} from "../services/batches";
import { serviceCtxOf } from "../http/service-ctx-of";
import { IdempotencyKey } from "./shared-schemas";

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes`);
  },
});

export const batchRoutes = new Hono<AppEnv>();

function idempotencyKeyOf(c: Context<AppEnv>): string | undefined {
  const rawKey = c.req.header("idempotency-key");
  return rawKey === undefined ? undefined : parseOrThrow(IdempotencyKey, rawKey);
}

batchRoutes.post("/", limitBody, async (c) => {
  const body = await readJson(c, CreateBatchInput);
  const idempotencyKey = idempotencyKeyOf(c);
  const result = await createBatch({ ctx: serviceCtxOf(c), input: { body, idempotencyKey } });
  return c.json(result.batch, result.status);
});

batchRoutes.get("/", async (c) => {
  const input = parseOrThrow(ListBatchesInput, c.req.query());
  return c.json(await listBatches({ ctx: serviceCtxOf(c), input }));
});
batchRoutes.all("/", methodNotAllowed(["GET", "POST"]));

batchRoutes.get("/:id", async (c) => c.json(await getBatch({ ctx: serviceCtxOf(c), input: { batchId: c.req.param("id") } })));
batchRoutes.all("/:id", methodNotAllowed(["GET"]));

/** Appending builds lists larger than one request (10,000 recipients) while the batch is a draft. */
batchRoutes.post("/:id/recipients", limitBody, async (c) => {
  const body = await readJson(c, AppendRecipientsInput);
  const input = { batchId: c.req.param("id"), body, idempotencyKey: idempotencyKeyOf(c) };
  return c.json(await appendRecipients({ ctx: serviceCtxOf(c), input }), 200);
});
batchRoutes.get("/:id/recipients", async (c) => {
  const query = parseOrThrow(ListRecipientsInput, c.req.query());
  return c.json(await listRecipients({ ctx: serviceCtxOf(c), input: { batchId: c.req.param("id"), query } }));
});
batchRoutes.all("/:id/recipients", methodNotAllowed(["GET", "POST"]));

/** Transitions answer 202 when work was handed to the pipeline, 200 when only state changed. */
const transitions = {
  send: { verb: sendBatch, status: 202 },
  resume: { verb: resumeBatch, status: 202 },
  retry: { verb: retryBatch, status: 202 },
  pause: { verb: pauseBatch, status: 200 },
  cancel: { verb: cancelBatch, status: 200 },
} as const;

for (const [action, { verb, status }] of Object.entries(transitions)) {
  batchRoutes.post(`/:id/${action}`, async (c) => {
    const result = await verb({ ctx: serviceCtxOf(c), input: { batchId: c.req.param("id") } });
    return c.json(result.batch, status);
  });
  batchRoutes.all(`/:id/${action}`, methodNotAllowed(["POST"]));
}
