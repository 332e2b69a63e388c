/**
 * The fast path for templates that only substitute variables (issue 12): `Hello {{ name }}` is literal text
 * and bare `{{ identifier }}` outputs, nothing else. Most batches are like that, and Liquid's render of them
 * (tokens, a generator per output, the filter chain) was a measurable share of the sender's CPU per send.
 *
 * Same output as Liquid with the engine options of templates.ts, or no answer at all (`undefined`), in which
 * case the caller renders with Liquid as before — so limits and errors stay Liquid's own:
 * - only `{{ name }}` with ASCII identifier characters and blanks inside; whitespace control (`{{-`), filters,
 *   dotted paths, tags (`{%`) and Liquid's literal names (`nil`, `true`, `empty`…) are Liquid's;
 * - a variable is read as an own property (`ownPropertyOnly`); missing or `null` renders as empty
 *   (`strictVariables: false`); a string as itself, HTML-escaped in HTML bodies as Liquid's `escape` does;
 *   any other type (numbers, arrays, objects) is left to Liquid's formatting;
 * - HTML escaping charges each value's length to the memory limit in Liquid: when the values' total reaches
 *   the budget, Liquid renders it (and fails it with its own message).
 * template-substitution.test.ts checks the equivalence against Liquid on generated templates and scopes.
 *
 * Edge-safe: no node:* imports.
 */

export interface Substitution {
  /** Literal text around the outputs: `parts.length === names.length + 1`. */
  parts: string[];
  names: string[];
}

const OUTPUT = /\{\{[ \t\r\n]*([A-Za-z_][A-Za-z0-9_]*)[ \t\r\n]*\}\}/g;
/** Names Liquid reads as literals, not variables. */
const LITERALS = new Set(["nil", "null", "empty", "blank", "true", "false"]);

/** The template as literal parts and variable names, or undefined when it uses anything else of Liquid. */
export function compileSubstitution(source: string): Substitution | undefined {
  const parts: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const m of source.matchAll(OUTPUT)) {
    if (LITERALS.has(m[1]!)) return undefined;
    parts.push(source.slice(last, m.index));
    names.push(m[1]!);
    last = m.index + m[0].length;
  }
  parts.push(source.slice(last));
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    // Any other markup is Liquid's; so is a `{` right before an output (`{{{ a }}}` tokenizes differently).
    if (p.includes("{{") || p.includes("{%") || (i < names.length && p.endsWith("{"))) return undefined;
  }
  return { parts, names };
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * Renders the substitution, or answers undefined (render with Liquid instead). `memory` is what the render may
 * still charge (Liquid charges escaped values only).
 */
export function renderSubstitution(sub: Substitution, scope: object, opts: { html: boolean; memory: number }): string | undefined {
  const vars = scope as Record<string, unknown>;
  let out = sub.parts[0]!;
  let charged = 0;
  for (let i = 0; i < sub.names.length; i++) {
    const name = sub.names[i]!;
    const v = Object.hasOwn(vars, name) ? vars[name] : undefined;
    let s: string;
    if (typeof v === "string") s = v;
    else if (v === undefined || v === null) s = "";
    else return undefined;
    if (opts.html) {
      charged += s.length;
      if (charged >= opts.memory) return undefined;
      s = escapeHtml(s);
    }
    out += s + sub.parts[i + 1]!;
  }
  return out;
}
