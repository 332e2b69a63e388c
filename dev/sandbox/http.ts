/**
 * Small node:http helpers for the sandbox: read a bounded body, write a JSON reply, and RFC 9457 problems
 * for the sandbox's own endpoints (provider endpoints answer in each provider's own error shape instead).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Reply } from "./types";

/** Providers cap requests at 40 MB (SES raw messages, Resend with attachments); so do we. */
const MAX_BODY_BYTES = 40 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.body !== undefined) {
    payload = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    headers["content-type"] ??= "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  } else headers["content-length"] = "0";
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export function problem(status: number, title: string, detail?: string, errors?: { path: string; message: string }[]): Reply {
  return {
    status,
    headers: { "content-type": "application/problem+json" },
    body: { type: "about:blank", title, status, ...(detail ? { detail } : {}), ...(errors ? { errors } : {}) },
  };
}

/** JSON body or undefined when it does not parse. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
