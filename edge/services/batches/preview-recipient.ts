/**
 * previewRecipient: renders one recipient's message exactly as the consumers will (same engines and limits,
 * core/domain/templates.ts; same size rules, core/domain/limits.ts), without sending anything. The
 * recipient is named by its id or its address (normalised like at creation).
 */
import { and, eq } from "drizzle-orm";
import { recipients, sendConfigs } from "../../../core/db/schema";
import { normalizeAddress } from "../../../core/domain/address";
import { renderedEmailProblem, renderedSmsProblem, renderedWebhookProblem, smsSegments, type SmsSegments } from "../../../core/domain/limits";
import { BatchPayload } from "../../../core/domain/payload";
import { AppError } from "../../../core/domain/problem";
import { parseTemplate, renderTemplate, TemplateError, type TemplateKind } from "../../../core/domain/templates";
import type { ServiceCtx } from "../service-ctx";
import { loadScopedBatch } from "./scope";

export type RenderedMessage =
  | { channel: "email"; from: string; replyTo: string | null; subject: string; html: string | null; text: string | null; headers: Record<string, string> }
  | { channel: "sms"; from: string | null; text: string; segments: SmsSegments }
  | { channel: "webhook"; url: string; method: string; headers: Record<string, string>; body: string };

export interface RecipientPreview {
  object: "preview";
  recipient: { id: string; to: string };
  /** null when a template fails to render for this recipient (see `problem`). */
  message: RenderedMessage | null;
  /** Why the consumers would fail this recipient (render error or provider limit), or null. */
  problem: string | null;
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");
const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : null);

export async function previewRecipient({ ctx, input }: { ctx: ServiceCtx; input: { batchId: string; recipient: string } }): Promise<RecipientPreview> {
  const batch = await loadScopedBatch(ctx.db, ctx, input.batchId);
  const scope = and(eq(recipients.batchId, batch.id), eq(recipients.tenantId, ctx.tenantId));
  let where;
  if (/^[1-9][0-9]{0,14}$/.test(input.recipient)) where = and(scope, eq(recipients.id, Number(input.recipient)));
  else {
    const n = normalizeAddress(batch.channel, input.recipient);
    if (!n.ok) throw new AppError("not_found", `No recipient ${input.recipient} in batch ${batch.id}`);
    where = and(scope, eq(recipients.address, n.address));
  }
  const [r] = await ctx.db.select({ id: recipients.id, address: recipients.address, variables: recipients.variables }).from(recipients).where(where).limit(1);
  if (!r) throw new AppError("not_found", `No recipient ${input.recipient} in batch ${batch.id}`);
  const [config] = await ctx.db.select({ defaults: sendConfigs.defaults }).from(sendConfigs).where(eq(sendConfigs.id, batch.sendConfigId));
  const defaults = (config?.defaults ?? {}) as Record<string, unknown>;

  const payload = BatchPayload.parse(batch.payload);
  const vars = { ...((r.variables ?? {}) as Record<string, unknown>), to: r.address, ...(payload.channel === "email" ? { email: r.address } : {}) };
  const render = (kind: TemplateKind, source: string) => renderTemplate(kind, parseTemplate(kind, source), vars);
  const renderHeaders = (h: Record<string, string> | undefined, clean: (s: string) => string) =>
    Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k, clean(render("text", v))]));
  const recipient = { id: String(r.id), to: r.address };

  try {
    if (payload.channel === "email") {
      const message: RenderedMessage = {
        channel: "email",
        from: payload.from,
        replyTo: payload.replyTo ?? str(defaults.replyTo),
        subject: oneLine(render("text", payload.subject)),
        html: payload.html === undefined ? null : render("html", payload.html),
        text: payload.text === undefined ? null : render("text", payload.text),
        headers: renderHeaders(payload.headers, oneLine),
      };
      const problem = renderedEmailProblem({ subject: message.subject, html: message.html ?? undefined, text: message.text ?? undefined, headers: message.headers });
      return { object: "preview", recipient, message, problem: problem ?? null };
    }
    if (payload.channel === "sms") {
      const text = render("text", payload.text);
      const message: RenderedMessage = { channel: "sms", from: payload.from ?? str(defaults.fromNumber), text, segments: smsSegments(text) };
      return { object: "preview", recipient, message, problem: renderedSmsProblem(text) ?? null };
    }
    const body = render("text", payload.body);
    const message: RenderedMessage = {
      channel: "webhook",
      url: payload.url ? render("text", payload.url).trim() : r.address,
      method: payload.method,
      headers: renderHeaders(payload.headers, (s) => s),
      body,
    };
    return { object: "preview", recipient, message, problem: renderedWebhookProblem(body) ?? null };
  } catch (err) {
    if (err instanceof TemplateError) return { object: "preview", recipient, message: null, problem: err.message };
    throw err;
  }
}
