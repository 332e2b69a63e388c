/** /v1/batches: thin handlers over the batch verbs (edge/services/batches). */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../../core/domain/problem";
import type { AppEnv } from "../context";
import { MAX_BODY_BYTES, parseOrThrow, readJson } from "../lib/json-body";
import { methodNotAllowed } from "../lib/problem";
import {
  cancelBatch,
  createBatch,
  CreateBatchInput,
  getBatch,
  IdempotencyKey,
  listBatches,
  ListBatchesInput,
  pauseBatch,
  resumeBatch,
  retryBatch,
  sendBatch,
} from "../services/batches";
import { serviceCtx } from "./service-ctx";

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes`);
  },
});

export const batchRoutes = new Hono<AppEnv>();

batchRoutes.post("/", limitBody, async (c) => {
  const body = await readJson(c, CreateBatchInput);
  const rawKey = c.req.header("idempotency-key");
  const idempotencyKey = rawKey === undefined ? undefined : parseOrThrow(IdempotencyKey, rawKey);
  const result = await createBatch({ ctx: serviceCtx(c), input: { body, idempotencyKey } });
  return c.json(result.batch, result.status);
});

batchRoutes.get("/", async (c) => {
  const input = parseOrThrow(ListBatchesInput, c.req.query());
  return c.json(await listBatches({ ctx: serviceCtx(c), input }));
});
batchRoutes.all("/", methodNotAllowed(["GET", "POST"]));

batchRoutes.get("/:id", async (c) => c.json(await getBatch({ ctx: serviceCtx(c), input: { batchId: c.req.param("id") } })));
batchRoutes.all("/:id", methodNotAllowed(["GET"]));

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
    const result = await verb({ ctx: serviceCtx(c), input: { batchId: c.req.param("id") } });
    return c.json(result.batch, status);
  });
  batchRoutes.all(`/:id/${action}`, methodNotAllowed(["POST"]));
}
