/**
 * Personalisation with the platform's one Liquid engine (core/domain/templates.ts: no eval, no file system,
 * HTML output escaped in HTML bodies, parse/render/memory limits). Templates were already parsed at batch
 * creation; here they are parsed once per batch and kept in a small per-process cache, so a 100k batch parses
 * its template once per consumer, not per recipient.
 *
 * Templates and variables are untrusted (issue 6, scenario 1). Per recipient:
 * - its variables are checked against the creation caps (`variablesProblem`) before rendering;
 * - all of its fields together (subject, bodies, headers) get ONE render budget (`TEMPLATE_LIMITS`), so a
 *   message of many templates cannot take many times the limit;
 * - the rendered message is checked against what its provider accepts (`RENDERED_LIMITS`).
 * Any of these is a `RenderError`: a permanent failure of that recipient with the reason, never a redelivery.
 * `renderChunk` yields to the event loop between recipients, so a chunk of 50 recipients that all hit the
 * time limit keeps `/health`, heartbeats (`working()`) and other chunks going.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { BatchPayload } from "../../core/domain/payload";
import { LIMITS, renderedEmailProblem, renderedSmsProblem, renderedWebhookProblem, variablesProblem } from "../../core/domain/limits";
import { compileTemplate, renderCompiled, TEMPLATE_LIMITS, TemplateError, type CompiledTemplate, type TemplateKind } from "../../core/domain/templates";
import type { OutgoingMessage } from "../providers/interface";

/** Liquid's parse, plus the variable-substitution fast path when the template has one (core/domain). */
type Parsed = CompiledTemplate;
interface CompiledBatch {
  payload: BatchPayload;
  subject?: Parsed;
  html?: Parsed;
  text?: Parsed;
  headers: [string, Parsed][];
  sms?: Parsed;
  body?: Parsed;
  /** Webhook target template (absent: the recipient's address is the URL). */
  url?: Parsed;
}

export interface BatchForRender {
  id: string;
  tenantId: string;
  payload: unknown;
  /** send_configs.defaults: `{ from, replyTo }` for email, `{ fromNumber, messagingProfileId }` for SMS. */
  defaults: Record<string, unknown>;
}

export interface RecipientForRender {
  id: number;
  address: string;
  variables: Record<string, unknown>;
  /** The claim found the stored variables far over the cap and did not load them (recipient-store.ts). */
  oversizedBytes?: number;
}

/** A recipient that cannot be rendered into a message its provider accepts: fail it, with this reason. */
export class RenderError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

const MAX_CACHED = 256;
/** A batch whose payload does not compile is cached as its error, so 100k recipients do not re-parse it. */
const cache = new Map<string, CompiledBatch | RenderError>();

function compile(batch: BatchForRender): CompiledBatch {
  const payload = BatchPayload.parse(batch.payload);
  const t = (s: string | undefined, kind: TemplateKind = "text") => (s === undefined ? undefined : compileTemplate(kind, s));
  const headers = (h: Record<string, string> | undefined): [string, Parsed][] => Object.entries(h ?? {}).map(([k, v]) => [k, t(v)!]);
  switch (payload.channel) {
    case "email":
      return { payload, subject: t(payload.subject), html: t(payload.html, "html"), text: t(payload.text), headers: headers(payload.headers) };
    case "sms":
      return { payload, sms: t(payload.text), headers: [] };
    case "webhook":
      return { payload, body: t(payload.body), url: t(payload.url), headers: headers(payload.headers) };
  }
}

function compiled(batch: BatchForRender): CompiledBatch {
  let c = cache.get(batch.id);
  if (!c) {
    try {
      c = compile(batch);
    } catch (err) {
      c = new RenderError(err instanceof TemplateError ? err.message : `invalid batch payload: ${(err as Error).message.slice(0, 300)}`);
    }
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(batch.id, c);
  }
  if (c instanceof RenderError) throw c;
  return c;
}

/** Drops a batch's parsed templates (tests; a batch's payload never changes once it is queued). */
export function forgetBatchTemplates(batchId: string): void {
  cache.delete(batchId);
}

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);

/**
 * One recipient's render budget, shared by all of its fields: each render gets what the previous ones left
 * (at least 1 ms, so an exhausted budget fails the next field at once instead of disabling the limit).
 */
class Budget {
  private readonly deadline = performance.now() + TEMPLATE_LIMITS.renderMs;
  private memoryLeft = TEMPLATE_LIMITS.memory;

  render(kind: TemplateKind, parsed: Parsed, scope: object): string {
    const renderMs = Math.max(1, this.deadline - performance.now());
    const out = renderCompiled(kind, parsed, scope, { renderMs, memory: Math.max(1, this.memoryLeft) });
    // The output's length is the bulk of what a render allocates; charge it to the recipient's whole budget.
    this.memoryLeft -= out.length;
    return out;
  }
}

function checked(m: OutgoingMessage): OutgoingMessage {
  const problem = m.email ? renderedEmailProblem(m.email) : m.sms ? renderedSmsProblem(m.sms.text) : renderedWebhookProblem(m.webhook!.body);
  if (problem) throw new RenderError(problem);
  return m;
}

/**
 * Renders one recipient's message. Throws `RenderError` (permanent for this recipient) when its variables
 * exceed the caps, a template fails or hits a limit, or the rendered message exceeds its provider's limits.
 */
export function renderMessage(batch: BatchForRender, r: RecipientForRender): OutgoingMessage {
  const c = compiled(batch);
  if (r.oversizedBytes !== undefined) throw new RenderError(`variables are ${r.oversizedBytes} bytes stored; at most ${LIMITS.variablesBytes} serialized`);
  const varsProblem = variablesProblem(r.variables);
  if (varsProblem) throw new RenderError(varsProblem);
  try {
    return checked(build(batch, c, r));
  } catch (err) {
    if (err instanceof RenderError) throw err;
    throw new RenderError(err instanceof TemplateError ? err.message : `Liquid render error: ${(err as Error).message.slice(0, 300)}`);
  }
}

function build(batch: BatchForRender, c: CompiledBatch, r: RecipientForRender): OutgoingMessage {
  // Recipient variables first, then the address, so `{{ email }}`/`{{ to }}` cannot be overridden by data.
  const scope = { ...r.variables, to: r.address, ...(c.payload.channel === "email" ? { email: r.address } : {}) };
  const budget = new Budget();
  const text = (p: Parsed) => budget.render("text", p, scope);
  const base = {
    recipientId: r.id,
    idempotencyKey: `${batch.id}:${r.id}`,
    to: r.address,
    tags: { batchId: batch.id, tenantId: batch.tenantId, recipientId: String(r.id) },
  };
  const p = c.payload;
  if (p.channel === "email") {
    // Header injection guard: a variable must never add a line to the subject or a header.
    const subject = text(c.subject!).replace(/[\r\n]+/g, " ");
    const html = c.html ? budget.render("html", c.html, scope) : undefined;
    const body = c.text ? text(c.text) : undefined;
    const headers = Object.fromEntries(c.headers.map(([k, v]) => [k, text(v).replace(/[\r\n]+/g, " ")]));
    return {
      ...base,
      email: {
        from: str(p.from) ?? String(batch.defaults.from),
        replyTo: p.replyTo ?? str(batch.defaults.replyTo),
        subject,
        html,
        text: body,
        headers: Object.keys(headers).length ? headers : undefined,
      },
    };
  }
  if (p.channel === "sms") {
    return {
      ...base,
      sms: {
        from: p.from ?? str(batch.defaults.fromNumber),
        messagingProfileId: p.messagingProfileId ?? str(batch.defaults.messagingProfileId),
        text: text(c.sms!),
      },
    };
  }
  const headers = Object.fromEntries(c.headers.map(([k, v]) => [k, text(v)]));
  return { ...base, ...(c.url ? { to: text(c.url).trim() } : {}), webhook: { method: p.method, headers, body: text(c.body!) } };
}

export interface RenderedChunk {
  messages: OutgoingMessage[];
  /** Recipients that cannot be sent, with the reason (permanent failures). */
  failures: { id: number; reason: string }[];
}

/**
 * Renders a claimed chunk, yielding to the event loop after every recipient whose render took noticeable
 * time (and at least every `yieldEvery` recipients), calling `onYield` (the caller's `working()`) each time.
 */
export async function renderChunk(
  batch: BatchForRender,
  rows: readonly RecipientForRender[],
  opts: { onYield?: () => void; yieldAfterMs?: number; yieldEvery?: number } = {},
): Promise<RenderedChunk> {
  const yieldAfterMs = opts.yieldAfterMs ?? 5;
  const yieldEvery = opts.yieldEvery ?? 10;
  const out: RenderedChunk = { messages: [], failures: [] };
  let sliceStart = performance.now();
  let sinceYield = 0;
  for (const row of rows) {
    try {
      out.messages.push(renderMessage(batch, row));
    } catch (err) {
      const reason = err instanceof RenderError ? err.message : `render failed: ${(err as Error).message}`;
      out.failures.push({ id: row.id, reason: `render: ${reason}`.slice(0, 500) });
    }
    sinceYield++;
    if (performance.now() - sliceStart >= yieldAfterMs || sinceYield >= yieldEvery) {
      await yieldToLoop();
      opts.onYield?.();
      sliceStart = performance.now();
      sinceYield = 0;
    }
  }
  return out;
}
