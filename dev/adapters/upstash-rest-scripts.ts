/**
 * Lua script translation for the local Upstash REST adapter.
 *
 * `@upstash/ratelimit` scripts start with `#!lua flags=allow-key-locking`, an Upstash-only flag that
 * open-source Redis 7 rejects ("Unexpected flag in script shebang"). We drop flags Redis does not know; when
 * none are left the shebang line becomes an empty line (legacy script semantics, which is what the scripts
 * were written for, and error line numbers stay right).
 *
 * The clients address scripts by the SHA-1 of the ORIGINAL text (ratelimit even ships the hashes as
 * constants), so we remember original-sha → rewritten script and translate EVALSHA / SCRIPT LOAD / SCRIPT
 * EXISTS. The map is per adapter process: after a restart an EVALSHA of an unknown sha reaches Redis
 * unchanged, Redis answers NOSCRIPT, and the client falls back to EVAL, which teaches us the script again.
 */
import { createHash } from "node:crypto";

/** Script flags open-source Redis 7 accepts in a `#!lua` shebang. */
const REDIS_SCRIPT_FLAGS = new Set(["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]);

export const sha1Hex = (s: string) => createHash("sha1").update(s, "utf8").digest("hex");

/** Returns the script with Redis-unknown shebang flags removed (unchanged when there is nothing to remove). */
export function stripUnsupportedShebang(script: string): string {
  if (!script.startsWith("#!lua")) return script;
  const nl = script.indexOf("\n");
  const first = nl === -1 ? script : script.slice(0, nl);
  const rest = nl === -1 ? "" : script.slice(nl);
  const parts = first.slice("#!lua".length).trim().split(/\s+/).filter(Boolean);
  let changed = false;
  let keptFlags: string[] | undefined;
  const other: string[] = [];
  for (const p of parts) {
    if (!p.startsWith("flags=")) {
      other.push(p);
      continue;
    }
    const flags = p.slice("flags=".length).split(",").filter(Boolean);
    keptFlags = flags.filter((f) => REDIS_SCRIPT_FLAGS.has(f));
    if (keptFlags.length !== flags.length) changed = true;
  }
  if (!changed) return script;
  if (!keptFlags?.length && other.length === 0) return rest;
  const flagPart = keptFlags?.length ? [`flags=${keptFlags.join(",")}`] : [];
  return `#!lua ${[...other, ...flagPart].join(" ")}`.trimEnd() + rest;
}

interface KnownScript {
  script: string;
  sha: string;
}

export type Arg = string;

/** A command after translation, and how to map Redis's reply back to what the client expects. */
export interface Translated {
  args: Arg[];
  mapReply?: (reply: unknown) => unknown;
}

export class ScriptRegistry {
  private readonly byOriginalSha = new Map<string, KnownScript>();

  /** Rewrites a script if needed and remembers it under the original's sha; returns the text for Redis. */
  private learn(original: string): { script: string; originalSha: string } {
    const script = stripUnsupportedShebang(original);
    const originalSha = sha1Hex(original);
    if (script !== original) this.byOriginalSha.set(originalSha, { script, sha: sha1Hex(script) });
    return { script, originalSha };
  }

  private resolveSha(sha: string): string {
    return this.byOriginalSha.get(sha.toLowerCase())?.sha ?? sha;
  }

  /** `args[0]` must already be upper-case. Commands that do not involve scripts pass through unchanged. */
  translate(args: Arg[]): Translated {
    const [name, a1, ...rest] = args;
    if (a1 === undefined) return { args };
    switch (name) {
      case "EVAL":
      case "EVAL_RO":
        return { args: [name, this.learn(a1).script, ...rest] };
      case "EVALSHA":
      case "EVALSHA_RO":
        return { args: [name, this.resolveSha(a1), ...rest] };
      case "SCRIPT": {
        const sub = a1.toUpperCase();
        if (sub === "LOAD" && rest[0] !== undefined) {
          const { script, originalSha } = this.learn(rest[0]);
          // Redis answers the rewritten script's sha; the client expects the sha of what it sent.
          return { args: ["SCRIPT", "LOAD", script], mapReply: () => Buffer.from(originalSha) };
        }
        if (sub === "EXISTS") return { args: ["SCRIPT", "EXISTS", ...rest.map((s) => this.resolveSha(s))] };
        if (sub === "FLUSH") return { args, mapReply: (r) => (this.byOriginalSha.clear(), r) };
        return { args };
      }
      default:
        return { args };
    }
  }
}
