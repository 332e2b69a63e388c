/**
 * exportSuppressions: the caller's list as a CSV stream (header `channel,address,reason,source,created_at`),
 * read in keyset pages of 1,000 while the client downloads, so no list size is held in memory. The output
 * is importable as is. Cells starting with = + - @ are left alone: addresses are data for machines, and a
 * phone number starts with +.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import { stringify } from "csv-stringify/browser/esm/sync";
import { suppressions } from "../../../core/db/schema";
import type { SuppressionReason } from "../../../core/domain/suppressions";
import type { ServiceCtx } from "../service-ctx";
import { suppressionScope, type Channel } from "./suppression-view";

const PAGE = 1_000;
export const EXPORT_COLUMNS = ["channel", "address", "reason", "source", "created_at"] as const;

export interface SuppressionExport {
  stream: ReadableStream<Uint8Array>;
  /** Settles when the stream is done, cancelled or failed: the request's pool must stay open until then. */
  finished: Promise<void>;
}

export function exportSuppressions({ ctx, input }: { ctx: ServiceCtx; input: { channel?: Channel; reason?: SuppressionReason } }): SuppressionExport {
  const encoder = new TextEncoder();
  let after: { channel: string; address: string } | undefined;
  let headerSent = false;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const stream = new ReadableStream<Uint8Array>({
    cancel: () => finish(),
    pull: (controller) => pullPage(controller).catch((err: unknown) => {
      finish();
      controller.error(err);
    }),
  });
  return { stream, finished };

  async function pullPage(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(stringify([[...EXPORT_COLUMNS]])));
        return;
      }
      const rows = await ctx.db
        .select()
        .from(suppressions)
        .where(
          and(
            suppressionScope(ctx),
            input.channel ? eq(suppressions.channel, input.channel) : undefined,
            input.reason ? eq(suppressions.reason, input.reason) : undefined,
            after ? sql`(${suppressions.channel}::text, ${suppressions.address}) > (${after.channel}, ${after.address})` : undefined,
          ),
        )
        .orderBy(asc(sql`${suppressions.channel}::text`), asc(suppressions.address))
        .limit(PAGE);
      if (rows.length) {
        controller.enqueue(encoder.encode(stringify(rows.map((r) => [r.channel, r.address, r.reason, r.source, r.createdAt.toISOString()]))));
        after = rows.at(-1)!;
      }
      if (rows.length < PAGE) {
        controller.close();
        finish();
      }
  }
}
