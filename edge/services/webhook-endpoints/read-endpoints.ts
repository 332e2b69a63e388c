/** getEndpoint / listEndpoints: tenant- and mode-scoped reads, newest first by keyset cursor (the endpoint id). */
import { and, desc, sql } from "drizzle-orm";
import { webhookEndpoints } from "../../../core/db/schema";
import { AppError } from "../../../core/domain/problem";
import type { ServiceCtx } from "../service-ctx";
import { endpointScope, loadEndpoint, toEndpointView, type EndpointView } from "./endpoint-view";

export async function getEndpoint({ ctx, input }: { ctx: ServiceCtx; input: { id: string } }): Promise<EndpointView> {
  return toEndpointView(await loadEndpoint(ctx.db, ctx, input.id));
}

export interface EndpointList {
  object: "list";
  data: EndpointView[];
  hasMore: boolean;
  nextCursor: string | null;
}

export async function listEndpoints({ ctx, input }: { ctx: ServiceCtx; input: { limit: number; starting_after?: string } }): Promise<EndpointList> {
  let where = endpointScope(ctx);
  if (input.starting_after) {
    const cursor = await loadEndpoint(ctx.db, ctx, input.starting_after).catch(() => {
      throw new AppError("not_found", `Webhook endpoint ${input.starting_after} (starting_after) not found`);
    });
    where = and(where, sql`(${webhookEndpoints.createdAt}, ${webhookEndpoints.id}) < (select created_at, id from webhook_endpoints where id = ${cursor.id}::uuid)`)!;
  }
  const rows = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(where)
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const hasMore = rows.length > input.limit;
  return { object: "list", data: page.map((r) => toEndpointView(r)), hasMore, nextCursor: hasMore ? page.at(-1)!.id : null };
}
