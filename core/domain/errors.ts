/**
 * Errors shared by every deployable. Edge-safe: no node:* imports.
 */

/**
 * The deployment is misconfigured (a binding or environment variable is missing or invalid). Thrown once, at
 * the boundary where configuration is validated (CONVENTIONS 2): the consumer exits 1 with the message, the
 * edge answers a 500 problem naming the fields. Messages name variables, never their (secret) values.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}
