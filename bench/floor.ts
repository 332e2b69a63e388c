/**
 * The floor of a provider send (issue 12): the least a process can do to make the same provider calls the
 * consumer makes — build the same request body, sign it (SES: `@smithy/signature-v4`) or set its bearer key
 * (Resend, Telnyx: global `fetch`, as the consumer's clients do), POST it over a keep-alive agent with the
 * consumer's agent options, at the consumer's concurrency, to the same sandbox. No queue, no database, no
 * token buckets, no templates. bench/send.ts compares the consumer's CPU per send to this loop's.
 *
 * Run by bench/send.ts as a child process (`node --import tsx bench/floor.ts`) with the consumer's env plus
 * FLOOR_PROVIDER (ses | resend | telnyx), FLOOR_SENDS, FLOOR_CONCURRENCY. Prints `ready`, waits for one line
 * on stdin (the parent samples CPU in between), runs, prints `{"sent":…,"failed":…}` and exits when stdin
 * closes.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { Agent, request } from "node:http";
import { once } from "node:events";
import { SignatureV4 } from "@smithy/signature-v4";

const env = process.env as Record<string, string>;
const provider = env.FLOOR_PROVIDER as "ses" | "resend" | "telnyx";
const sends = Number(env.FLOOR_SENDS);
const concurrency = Number(env.FLOOR_CONCURRENCY);
const PER_CALL = provider === "resend" ? 100 : 1;
const run = `floor${Date.now()}`;
const tags = (i: number) => ({ batchId: run, recipientId: String(i), tenantId: "00000000-0000-4000-8000-000000000000" });

type Data = string | ArrayBuffer | ArrayBufferView;
const buf = (d: Data) => (typeof d === "string" ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d));
/** The signer's Checksum over node:crypto, the least it can be. */
class Sha256 {
  private h: Hash | Hmac;
  constructor(private readonly key?: Data) {
    this.h = key === undefined ? createHash("sha256") : createHmac("sha256", buf(key));
  }
  update(d: Data) {
    this.h.update(buf(d));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset() {
    this.h = this.key === undefined ? createHash("sha256") : createHmac("sha256", buf(this.key));
  }
}

function sesSender(): (i: number) => Promise<boolean> {
  const base = new URL(env.SES_ENDPOINT!);
  // The consumer's agent options (consumers/providers/sigv4-post.ts).
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 256, scheduling: "lifo", timeout: 30_000 });
  const signer = new SignatureV4({
    credentials: { accessKeyId: env.SES_ACCESS_KEY_ID!, secretAccessKey: env.SES_SECRET_ACCESS_KEY! },
    region: env.SES_REGION!,
    service: "ses",
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: true,
  });
  const path = "/v2/email/outbound-emails";
  return async (i) => {
    const t = tags(i);
    const body = Buffer.from(
      JSON.stringify({
        FromEmailAddress: "Test <test@demo.batchsender.dev>",
        Destination: { ToAddresses: [`r${i}@example.com`] },
        Content: { Simple: { Subject: { Data: `Hello R${i}`, Charset: "UTF-8" }, Body: { Text: { Data: `Hi R${i}`, Charset: "UTF-8" } } } },
        EmailTags: Object.entries({ batch_id: t.batchId, recipient_id: t.recipientId, tenant_id: t.tenantId }).map(([Name, Value]) => ({ Name, Value })),
      }),
    );
    const signed = await signer.sign({
      method: "POST",
      protocol: base.protocol,
      hostname: base.hostname,
      port: Number(base.port),
      path,
      query: {},
      headers: { host: base.host, "content-type": "application/json", "content-length": String(body.length) },
      body,
    });
    const req = request({ agent, method: "POST", host: base.hostname, port: base.port, path, headers: signed.headers });
    req.end(body);
    const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
    let text = "";
    res.setEncoding("utf8");
    for await (const c of res) text += c;
    return res.statusCode === 200 && text.includes("MessageId");
  };
}

function fetchSender(): (i: number) => Promise<boolean> {
  const resend = provider === "resend";
  const url = resend ? `${env.RESEND_API_URL!.replace(/\/+$/, "")}/emails/batch` : `${env.TELNYX_API_URL!.replace(/\/+$/, "")}/v2/messages`;
  const key = resend ? env.RESEND_API_KEY! : env.TELNYX_API_KEY!;
  const email = (i: number) => {
    const t = tags(i);
    return {
      from: "Test <test@demo.batchsender.dev>",
      to: [`r${i}@example.com`],
      subject: `Hello R${i}`,
      text: `Hi R${i}`,
      tags: [
        { name: "batch_id", value: t.batchId },
        { name: "recipient_id", value: t.recipientId },
        { name: "tenant_id", value: t.tenantId },
      ],
    };
  };
  return async (i) => {
    const body = resend
      ? Array.from({ length: PER_CALL }, (_, k) => email(i + k))
      : { to: `+1212555${String(1000 + (i % 9000)).padStart(4, "0")}`, from: "+12125550100", messaging_profile_id: env.TELNYX_MESSAGING_PROFILE_ID, text: `Hi R${i}`, type: "SMS" };
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": `${run}:${i}` },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { data?: unknown };
    return res.ok && json.data !== undefined;
  };
}

async function main() {
  const send = provider === "ses" ? sesSender() : fetchSender();
  process.stdout.write("ready\n");
  await once(process.stdin, "data");
  let next = 0;
  let sent = 0;
  let failed = 0;
  const worker = async () => {
    for (;;) {
      const i = next;
      next += PER_CALL;
      if (i >= sends) return;
      if (await send(i)) sent += Math.min(PER_CALL, sends - i);
      else failed += PER_CALL;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  process.stdout.write(`${JSON.stringify({ sent, failed })}\n`);
  // Stay until the parent has read this process's peak RSS (it closes stdin).
  process.stdin.resume();
  await once(process.stdin, "end");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
