/**
 * The baseline a team would otherwise build: a BullMQ worker with one job per recipient that does the same
 * work as our sender — claim the row (same guarded SQL), render (same Liquid code), send through the same SES
 * client against the same sandbox, record the result (same guarded SQL), complete the batch — on the same
 * Postgres and Redis. BullMQ's own limiter stands in for our token buckets.
 *
 * Run by bench/send.ts as a child process: `node --import tsx bench/bullmq-baseline.ts` with env
 * DATABASE_URL, REDIS_URL, SES_*, BULLMQ_QUEUE, BULLMQ_CONCURRENCY, BULLMQ_RATE.
 */
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { createSesClient } from "../consumers/providers/ses";
import { claimRecipients, completeIfDone, recordResults } from "../consumers/jobs/recipient-store";
import { renderMessage } from "../consumers/jobs/render";

const env = process.env as Record<string, string>;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 20 });
const ses = createSesClient({
  region: env.SES_REGION!,
  accessKeyId: env.SES_ACCESS_KEY_ID!,
  secretAccessKey: env.SES_SECRET_ACCESS_KEY!,
  endpoint: env.SES_ENDPOINT,
});
const connection = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null });
const batchCache = new Map<string, { id: string; tenantId: string; payload: unknown; defaults: Record<string, unknown> }>();

async function loadBatch(batchId: string) {
  let b = batchCache.get(batchId);
  if (!b) {
    const { rows } = await pool.query<{ id: string; tenant_id: string; payload: unknown; defaults: Record<string, unknown> }>(
      "select b.id, b.tenant_id, b.payload, c.defaults from batches b join send_configs c on c.id = b.send_config_id where b.id = $1",
      [batchId],
    );
    const r = rows[0]!;
    b = { id: r.id, tenantId: r.tenant_id, payload: r.payload, defaults: r.defaults };
    batchCache.set(batchId, b);
  }
  return b;
}

const worker = new Worker<{ batchId: string; recipientId: number }>(
  env.BULLMQ_QUEUE!,
  async (job) => {
    const { batchId, recipientId } = job.data;
    const token = crypto.randomUUID();
    const claimed = await claimRecipients(pool, { batchId, ids: [recipientId], token });
    if (claimed.length === 0) return;
    const batch = await loadBatch(batchId);
    const messages = claimed.map((r) => renderMessage(batch, r));
    const [outcome] = await ses.send(messages);
    if (!outcome || outcome.status === "retry") throw new Error(outcome?.reason ?? "no outcome");
    await recordResults(pool, {
      batchId,
      token,
      results: [
        outcome.status === "sent"
          ? { id: recipientId, status: "sent", providerMessageId: outcome.providerMessageId }
          : { id: recipientId, status: "failed", error: outcome.reason },
      ],
    });
    await completeIfDone(pool, batchId);
  },
  {
    connection,
    concurrency: Number(env.BULLMQ_CONCURRENCY ?? 16),
    limiter: { max: Number(env.BULLMQ_RATE ?? 100000), duration: 1000 },
  },
);
worker.on("failed", (job, err) => process.stderr.write(`job ${job?.id} failed: ${err.message}\n`));
process.on("SIGTERM", () => {
  // The worker's close already ends its use of the connection; disconnect (not quit) so nothing is left to fail.
  void worker
    .close()
    .then(() => pool.end())
    .finally(() => {
      connection.disconnect();
      process.exit(0);
    });
});
process.stdout.write("ready\n");
