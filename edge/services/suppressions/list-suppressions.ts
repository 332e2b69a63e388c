/** listSuppressions: the caller's list in (channel, address) order by keyset cursor, filtered and searched. */
import { and, asc, eq, sql } from "drizzle-orm";
import { suppressions } from "../../../core/db/schema";
import type { SuppressionReason } from "../../../core/domain/suppressions";
import type { ServiceCtx } from "../service-ctx";
import { decodeCursor, encodeCursor, suppressionScope, toSuppressionView, type Channel, type SuppressionView } from "./suppression-view";

export interface ListSuppressionsInput {
  limit: number;
  starting_after?: string;
  channel?: Channel;
  reason?: SuppressionReason;
  /** Substring of the stored (normalised) address; compared lowercased, like email addresses are stored. */
  search?: string;
}

export interface SuppressionList {
  object: "list";
  data: SuppressionView[];
  hasMore: boolean;
  nextCursor: string | null;
}

export async function listSuppressions({ ctx, input }: { ctx: ServiceCtx; input: ListSuppressionsInput }): Promise<SuppressionList> {
  const after = input.starting_after ? decodeCursor(input.starting_after) : undefined;
  const where = and(
    suppressionScope(ctx),
    input.channel ? eq(suppressions.channel, input.channel) : undefined,
    input.reason ? eq(suppressions.reason, input.reason) : undefined,
    // strpos, not LIKE: the search text is matched literally (no % or _ wildcards to escape).
    input.search ? sql`strpos(${suppressions.address}, ${input.search.trim().toLowerCase()}) > 0` : undefined,
    after ? sql`(${suppressions.channel}::text, ${suppressions.address}) > (${after.channel}, ${after.address})` : undefined,
  );
  const rows = await ctx.db
    .select()
    .from(suppressions)
    .where(where)
    .orderBy(asc(sql`${suppressions.channel}::text`), asc(suppressions.address))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const hasMore = rows.length > input.limit;
  return { object: "list", data: page.map(toSuppressionView), hasMore, nextCursor: hasMore ? encodeCursor(page.at(-1)!) : null };
}
