/**
 * listRecipients: what happened to every recipient of a batch, paginated by recipient id (a keyset cursor,
 * stable while statuses change underneath). Tenant-scoped twice: the batch must be the caller's (404
 * otherwise) and the rows are filtered on tenant_id too. Variables and claim tokens never leave the API.
 */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { recipients, type Recipient } from "../../../core/db/schema";
import { normalizeAddress } from "../../../core/domain/address";
import { AppError } from "../../../core/domain/problem";
import { listPage } from "../list-page";
import type { ServiceCtx } from "../service-ctx";
import { loadScopedBatch } from "./scope";

export interface ListRecipientsInput {
  status?: Recipient["status"];
  limit: number;
  /** The `id` (a decimal string) of the last recipient of the previous page. */
  starting_after?: string;
  /** Exact address, normalised like the stored one (`ADA@Example.com ` finds `ada@example.com`). */
  to?: string;
  /** Address prefix: lowercased for email, taken as is for phone numbers and URLs. */
  to_prefix?: string;
}

export interface RecipientView {
  /** A string: ids are bigints in Postgres. */
  id: string;
  object: "recipient";
  to: string;
  status: Recipient["status"];
  attempts: number;
  providerMessageId: string | null;
  error: string | null;
  sentAt: string | null;
  updatedAt: string;
}

export interface RecipientList {
  object: "list";
  data: RecipientView[];
  hasMore: boolean;
  /** Pass as `starting_after` for the next page; null on the last page. */
  nextCursor: string | null;
}

const columns = {
  id: recipients.id,
  address: recipients.address,
  status: recipients.status,
  attempts: recipients.attempts,
  providerMessageId: recipients.providerMessageId,
  lastError: recipients.lastError,
  sentAt: recipients.sentAt,
  updatedAt: recipients.updatedAt,
};

type Row = Pick<Recipient, "id" | "address" | "status" | "attempts" | "providerMessageId" | "lastError" | "sentAt" | "updatedAt">;

function toRecipientView(r: Row): RecipientView {
  return {
    id: String(r.id),
    object: "recipient",
    to: r.address,
    status: r.status,
    attempts: r.attempts,
    providerMessageId: r.providerMessageId,
    error: r.lastError,
    sentAt: r.sentAt ? r.sentAt.toISOString() : null,
    updatedAt: r.updatedAt.toISOString(),
  };
}

export async function listRecipients({
  ctx,
  input,
}: {
  ctx: ServiceCtx;
  input: { batchId: string; query: ListRecipientsInput };
}): Promise<RecipientList> {
  const { batchId, query } = input;
  const batch = await loadScopedBatch(ctx.db, ctx, batchId);
  const address = query.to === undefined ? undefined : exactAddress(batch.channel, query.to);
  const prefix = query.to_prefix === undefined ? undefined : batch.channel === "email" ? query.to_prefix.trim().toLowerCase() : query.to_prefix.trim();
  const rows = await ctx.db
    .select(columns)
    .from(recipients)
    .where(
      and(
        eq(recipients.batchId, batchId),
        eq(recipients.tenantId, ctx.tenantId),
        query.status ? eq(recipients.status, query.status) : undefined,
        address !== undefined ? eq(recipients.address, address) : undefined,
        // starts_with walks the batch's rows in id order (the batch_id index), so a rare prefix in a huge
        // batch costs a scan of that batch; exact search uses the (batch_id, address) unique index.
        prefix ? sql`starts_with(${recipients.address}, ${prefix})` : undefined,
        query.starting_after ? gt(recipients.id, Number(query.starting_after)) : undefined,
      ),
    )
    .orderBy(asc(recipients.id))
    .limit(query.limit + 1);
  return listPage(rows, query.limit, toRecipientView);
}

/** `to` normalised for the batch's channel; an address that cannot exist is a 422 naming `to`. */
function exactAddress(channel: "email" | "sms" | "webhook", raw: string): string {
  const n = normalizeAddress(channel, raw);
  if (!n.ok) throw new AppError("validation_failed", `to ${n.message}`, { errors: [{ path: "to", message: n.message }] });
  return n.address;
}
