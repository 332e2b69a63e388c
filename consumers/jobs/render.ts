/**
 * Personalisation with Liquid (liquidjs): no eval, no file system (includes resolve only against an empty
 * in-memory map), HTML output escaped by default in HTML bodies. Templates were already parsed at batch
 * creation (a syntax error is a 400 there); here they are parsed once per batch and kept in a small
 * per-process cache, so a 100k batch parses its template once per consumer, not per recipient.
 */
import { Liquid, type Template } from "liquidjs";
import { BatchPayload } from "../../core/domain/payload";
import type { OutgoingMessage } from "../providers/interface";

const common = { templates: {}, strictFilters: true, ownPropertyOnly: true, cache: false } as const;
const htmlEngine = new Liquid({ ...common, outputEscape: "escape" });
const textEngine = new Liquid({ ...common });

type Parsed = Template[];
interface CompiledBatch {
  payload: BatchPayload;
  subject?: Parsed;
  html?: Parsed;
  text?: Parsed;
  headers: [string, Parsed][];
  sms?: Parsed;
  body?: Parsed;
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
}

const MAX_CACHED = 256;
const cache = new Map<string, CompiledBatch>();

function compile(batch: BatchForRender): CompiledBatch {
  const payload = BatchPayload.parse(batch.payload);
  const t = (s: string | undefined) => (s === undefined ? undefined : textEngine.parse(s));
  switch (payload.channel) {
    case "email":
      return {
        payload,
        subject: t(payload.subject),
        html: payload.html === undefined ? undefined : htmlEngine.parse(payload.html),
        text: t(payload.text),
        headers: Object.entries(payload.headers ?? {}).map(([k, v]) => [k, textEngine.parse(v)]),
      };
    case "sms":
      return { payload, sms: t(payload.text), headers: [] };
    case "webhook":
      return { payload, body: t(payload.body), headers: Object.entries(payload.headers ?? {}).map(([k, v]) => [k, textEngine.parse(v)]) };
  }
}

function compiled(batch: BatchForRender): CompiledBatch {
  let c = cache.get(batch.id);
  if (!c) {
    c = compile(batch);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(batch.id, c);
  }
  return c;
}

/** Drops a batch's parsed templates (tests; a batch's payload never changes once it is queued). */
export function forgetBatchTemplates(batchId: string): void {
  cache.delete(batchId);
}

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);

/** Renders one recipient's message. Throws on a payload that does not validate (the batch row is broken). */
export function renderMessage(batch: BatchForRender, r: RecipientForRender): OutgoingMessage {
  const c = compiled(batch);
  // Recipient variables first, then the address, so `{{ email }}`/`{{ to }}` cannot be overridden by data.
  const scope = { ...r.variables, to: r.address, ...(c.payload.channel === "email" ? { email: r.address } : {}) };
  const text = (p: Parsed) => textEngine.renderSync(p, scope) as string;
  const base = {
    recipientId: r.id,
    idempotencyKey: `${batch.id}:${r.id}`,
    to: r.address,
    tags: { batchId: batch.id, tenantId: batch.tenantId, recipientId: String(r.id) },
  };
  const p = c.payload;
  if (p.channel === "email") {
    const headers = Object.fromEntries(c.headers.map(([k, v]) => [k, text(v).replace(/[\r\n]+/g, " ")]));
    return {
      ...base,
      email: {
        from: str(p.from) ?? String(batch.defaults.from),
        replyTo: p.replyTo ?? str(batch.defaults.replyTo),
        // Header injection guard: a variable must never add a line to the subject header.
        subject: text(c.subject!).replace(/[\r\n]+/g, " "),
        html: c.html ? (htmlEngine.renderSync(c.html, scope) as string) : undefined,
        text: c.text ? text(c.text) : undefined,
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
  return {
    ...base,
    webhook: { method: p.method, headers: Object.fromEntries(c.headers.map(([k, v]) => [k, text(v)])), body: text(c.body!) },
  };
}
