/**
 * Just enough RFC 5322/MIME reading for SES `Content.Raw`: unfolded top-level headers, the recipients named
 * in To/Cc, and the first text/plain and text/html parts (quoted-printable/base64 decoded). BatchSender sends
 * `Content.Simple`; this only lets people inspect raw sends made by hand.
 */
export interface RawEmail {
  headers: Record<string, string>;
  recipients: string[];
  text?: string;
  html?: string;
}

function splitHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r\n/g, "\n").replace(/\n[ \t]+/g, " ").split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function splitMessage(raw: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  return m ? { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) } : { head: raw, body: "" };
}

function decode(body: string, encoding: string | undefined): string {
  const enc = encoding?.toLowerCase();
  if (enc === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (enc === "quoted-printable") {
    const bytes = Buffer.from(body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
    return bytes.toString("utf8");
  }
  return body;
}

function collectParts(headers: Record<string, string>, body: string, out: RawEmail, depth = 0): void {
  const type = headers["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary && depth < 5) {
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith("--")) break;
      // The line break before a boundary belongs to the boundary (RFC 2046 §5.1.1), not to the part.
      const { head, body: partBody } = splitMessage(part.replace(/^\r?\n/, "").replace(/\r?\n$/, ""));
      collectParts(splitHeaders(head), partBody, out, depth + 1);
    }
    return;
  }
  const text = decode(body, headers["content-transfer-encoding"]);
  if (/^text\/html/i.test(type)) out.html ??= text;
  else if (/^text\/plain/i.test(type)) out.text ??= text;
}

export function parseRawEmail(raw: string): RawEmail {
  const { head, body } = splitMessage(raw);
  const headers = splitHeaders(head);
  const recipients = [headers.to, headers.cc]
    .filter((v): v is string => !!v)
    .flatMap((v) => v.split(","))
    .map((a) => /<([^>]+)>/.exec(a)?.[1] ?? a.trim())
    .filter((a) => a.length > 0);
  const out: RawEmail = { headers, recipients };
  collectParts(headers, body, out);
  return out;
}
