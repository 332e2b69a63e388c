/**
 * The one Liquid engine factory (DESIGN §5.10, §7), used by the edge (parse at creation, preview) and the
 * consumers (render per recipient) alike, so a template accepted by the API renders the same way when sent.
 *
 * Templates and variables are untrusted input. Every engine has:
 * - no file system (`templates: {}`: includes/layouts resolve only against an empty map), no eval;
 * - `ownPropertyOnly`, `strictFilters` (an unknown filter is a syntax error at creation, not 100k failures);
 * - `outputEscape: "escape"` for HTML bodies (variables are HTML-escaped unless `| raw`);
 * - `parseLimit` (characters parsed per `parse()`), `renderLimit` (ms per `render()`) and `memoryLimit`
 *   (units of allocation per `render()`: ranges, joins, string growth…).
 *
 * Trade-off: `renderLimit` reads `performance.now()`, which workerd freezes during synchronous work, so at
 * the edge only `memoryLimit` bounds a render (the edge renders one recipient for a preview; the Worker's
 * own CPU limit is the backstop). In Node both apply. A limit hit is a `TemplateError` with `limit` set; the
 * consumers fail that one recipient with the message ("render limit exceeded"), never the process.
 *
 * Edge-safe: no node:* imports.
 */
import { CaptureTag, Liquid, type Context, type Template } from "liquidjs";
import { compileSubstitution, renderSubstitution, type Substitution } from "./template-substitution";

export type TemplateKind = "html" | "text";

export interface TemplateLimits {
  /** Characters one `parse()` may read (the largest template source we accept is 512 KiB). */
  parseChars: number;
  /** Milliseconds one `render()` may take (Node only; see above). */
  renderMs: number;
  /** liquidjs allocation units one `render()` may use. */
  memory: number;
  /**
   * Characters one `render()` may output. Checked on the result before anything flattens it (V8 builds
   * repeated output as a rope, so a 1 GB result can be "made" in milliseconds and explode when encoded).
   */
  outputChars: number;
}

export const TEMPLATE_LIMITS: TemplateLimits = {
  parseChars: 1024 * 1024,
  renderMs: 100,
  memory: 2_000_000,
  outputChars: 2 * 1024 * 1024,
};

/**
 * `{% capture %}` as liquidjs ships it, plus a charge of the captured length to the render's memory limit:
 * liquidjs charges `append`, ranges, joins… but not capture, so doubling a captured string in a loop grew
 * without bound (to V8's maximum string length) in a few milliseconds.
 */
class ChargedCapture extends CaptureTag {
  override *render(ctx: Context): Generator<unknown, void, string> {
    yield* super.render(ctx);
    const captured = ctx.bottom()[this.variable as keyof object] as unknown;
    if (typeof captured === "string") ctx.memoryLimit.use(captured.length);
  }
}

export type ParsedTemplate = Template[];

export class TemplateError extends Error {
  constructor(
    message: string,
    /** Which limit was hit, or undefined for a syntax/render error of the template itself. */
    readonly limit?: "parse" | "render" | "memory",
  ) {
    super(message);
    this.name = "TemplateError";
  }
}

export function createTemplateEngine(kind: TemplateKind, limits: TemplateLimits = TEMPLATE_LIMITS): Liquid {
  const engine = new Liquid({
    templates: {},
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    cache: false,
    jsTruthy: false,
    parseLimit: limits.parseChars,
    renderLimit: limits.renderMs,
    memoryLimit: limits.memory,
    ...(kind === "html" ? { outputEscape: "escape" as const } : {}),
  });
  engine.registerTag("capture", ChargedCapture);
  return engine;
}

// Per-isolate / per-process: engines are pure (no I/O, no state between renders).
const engines: Record<TemplateKind, Liquid> = { html: createTemplateEngine("html"), text: createTemplateEngine("text") };

function limitOf(message: string): TemplateError["limit"] {
  if (message.includes("parse length limit exceeded")) return "parse";
  if (message.includes("template render limit exceeded")) return "render";
  if (message.includes("memory alloc limit exceeded")) return "memory";
  return undefined;
}

function toTemplateError(err: unknown, what: "parse" | "render"): TemplateError {
  const raw = err instanceof Error ? err.message : String(err);
  const limit = limitOf(raw);
  if (limit === "parse") return new TemplateError("template too large to parse (parse limit exceeded)", limit);
  if (limit === "render") return new TemplateError("render limit exceeded (the template took too long to render)", limit);
  if (limit === "memory") return new TemplateError("render limit exceeded (the template allocated too much memory)", limit);
  return new TemplateError(what === "parse" ? `Liquid syntax error: ${raw}` : `Liquid render error: ${raw}`);
}

export function parseTemplate(kind: TemplateKind, source: string): ParsedTemplate {
  try {
    return engines[kind].parse(source);
  } catch (err) {
    throw toTemplateError(err, "parse");
  }
}

/**
 * Renders with the engine's limits, or with a smaller per-call `budget` (the consumers give one recipient a
 * budget across all of its fields — subject, bodies, headers — so a message of many templates cannot take
 * many times the limit).
 */
export function renderTemplate(kind: TemplateKind, parsed: ParsedTemplate, scope: object, budget?: { renderMs?: number; memory?: number }): string {
  let out: string;
  try {
    out = engines[kind].renderSync(parsed, scope, budget ? { renderLimit: budget.renderMs, memoryLimit: budget.memory } : undefined) as string;
  } catch (err) {
    throw toTemplateError(err, "render");
  }
  // `length` of a rope is O(1): refuse before anything (encoding, escaping, sending) flattens it.
  if (out.length > TEMPLATE_LIMITS.outputChars) {
    throw new TemplateError(`render limit exceeded (the rendered output is ${out.length} characters; at most ${TEMPLATE_LIMITS.outputChars})`, "memory");
  }
  return out;
}

/** A template parsed by Liquid, plus its substitution-only form when it has one (template-substitution.ts). */
export interface CompiledTemplate {
  liquid: ParsedTemplate;
  substitution?: Substitution;
}

export function compileTemplate(kind: TemplateKind, source: string): CompiledTemplate {
  return { liquid: parseTemplate(kind, source), substitution: compileSubstitution(source) };
}

/** `renderTemplate`, through the substitution fast path when the template and the values allow it. */
export function renderCompiled(kind: TemplateKind, t: CompiledTemplate, scope: object, budget?: { renderMs?: number; memory?: number }): string {
  if (t.substitution) {
    const out = renderSubstitution(t.substitution, scope, { html: kind === "html", memory: budget?.memory ?? TEMPLATE_LIMITS.memory });
    // Over the output limit: Liquid renders it again and refuses it with its own message.
    if (out !== undefined && out.length <= TEMPLATE_LIMITS.outputChars) return out;
  }
  return renderTemplate(kind, t.liquid, scope, budget);
}

export interface TemplateField {
  /** Field path for the problem document, e.g. `message.html`. */
  path: string;
  kind: TemplateKind;
  source: string | undefined;
}

export interface FieldError {
  path: string;
  message: string;
}

/** Parses every field; returns one error per field that does not parse (empty when all do). */
export function checkTemplates(fields: readonly TemplateField[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const f of fields) {
    if (f.source === undefined) continue;
    try {
      parseTemplate(f.kind, f.source);
    } catch (err) {
      errors.push({ path: f.path, message: (err as Error).message });
    }
  }
  return errors;
}
