/**
 * API-key scopes (issue 8): what a key may do. `admin` implies every other scope. A key holds a set of them;
 * each route needs exactly one (edge/http/scopes.ts maps every route to its scope).
 *
 * Edge-safe: no node:* imports.
 */
export const SCOPES = ["batches:read", "batches:write", "suppressions:write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  "batches:read": "Read batches, recipients, previews and usage",
  "batches:write": "Create, append to, send, pause, resume, cancel and retry batches",
  "suppressions:write": "Add, remove and import suppressions",
  admin: "Everything, including API keys, sending domains, send configs and webhook endpoints",
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Whether a key holding `held` may use a route that needs `needed`. Unknown stored strings grant nothing. */
export function hasScope(held: readonly string[], needed: Scope): boolean {
  return held.includes("admin") || held.includes(needed);
}

/** The requested scopes a key holding `held` may not grant (a key grants only what it holds itself). */
export function ungrantableScopes(held: readonly string[], requested: readonly Scope[]): Scope[] {
  return requested.filter((s) => !hasScope(held, s));
}
