/**
 * Templates are parsed when the batch is created, so a Liquid syntax error is one 422 naming the field
 * instead of 100k failed sends (DESIGN §7). Same engine options as the consumers' renderer
 * (consumers/jobs/render.ts): no file system, strict filters, HTML escaped by default in HTML bodies.
 */
import { Liquid } from "liquidjs";
import { AppError } from "../../../core/domain/problem";
import type { EmailPayload } from "../../../core/domain/payload";

// Per-isolate: pure parsers without I/O.
const common = { templates: {}, strictFilters: true, strictVariables: false, ownPropertyOnly: true, cache: false } as const;
const htmlEngine = new Liquid({ ...common, outputEscape: "escape" });
const textEngine = new Liquid({ ...common });

export function assertTemplatesParse(payload: EmailPayload): void {
  const errors: { path: string; message: string }[] = [];
  const check = (engine: Liquid, path: string, source: string | undefined) => {
    if (source === undefined) return;
    try {
      engine.parse(source);
    } catch (err) {
      errors.push({ path, message: `Liquid syntax error: ${(err as Error).message}` });
    }
  };
  check(textEngine, "message.subject", payload.subject);
  check(htmlEngine, "message.html", payload.html);
  check(textEngine, "message.text", payload.text);
  for (const [name, value] of Object.entries(payload.headers ?? {})) check(textEngine, `message.headers.${name}`, value);
  if (errors.length) {
    throw new AppError("validation_failed", `${errors[0]!.path}: ${errors[0]!.message}`, { errors });
  }
}
