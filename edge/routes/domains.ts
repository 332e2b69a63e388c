/**
 * /v1/domains: sending domains on the managed provider accounts (issue 8). Adding one returns the DNS records
 * to publish; `POST /{id}/verify` asks the provider again. Thin handlers over edge/services/domains.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { DomainName } from "../../core/domain/sending-domains";
import { domainIdentitiesFor } from "../adapters/domain-identities";
import { guardJson, limitBody } from "../http/json-body";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { idempotency } from "../middleware/idempotency";
import { addDomain, deleteDomain, getDomain, listDomains, verifyDomain } from "../services/domains";
import { json } from "./batch-schemas";
import { IdempotencyHeaders, pageQuery, problems } from "./shared-schemas";

export const domainRoutes = openApiApp();
const security = [{ apiKey: [] }];
const tags = ["Domains"];

const Timestamp = z.iso.datetime({ offset: true });
const DnsRecord = z
  .object({
    purpose: z.enum(["dkim", "spf", "dmarc", "mail_from_mx", "mail_from_spf"]),
    type: z.enum(["CNAME", "TXT", "MX"]),
    name: z.string(),
    value: z.string(),
    priority: z.number().int().optional(),
    required: z.boolean().openapi({ description: "false for suggestions (DMARC) the provider does not check" }),
  })
  .openapi("DnsRecord");
const Domain = z
  .object({
    id: z.uuid(),
    domain: z.string(),
    provider: z.enum(["ses", "resend"]),
    status: z.enum(["pending", "verified", "failed"]),
    mode: z.enum(["live", "test"]),
    records: z.array(DnsRecord),
    mailFromDomain: z.string().nullable(),
    lastCheckedAt: Timestamp.nullable(),
    verifiedAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .openapi("Domain");
const DomainList = z.object({ data: z.array(Domain), hasMore: z.boolean(), nextCursor: z.string().nullable() }).openapi("DomainList");
const AddDomainInput = z
  .strictObject({
    domain: DomainName.openapi({ example: "mail.example.com" }),
    provider: z.enum(["ses", "resend"]).default("ses").openapi({ description: "The managed account the domain sends through" }),
  })
  .openapi("AddDomainInput");
const DomainIdParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, description: "The domain id (a UUID)", example: "0193b6a2-7c1e-7d5a-9f3e-2b8c4d6e8f10" }),
});

// The records view carries our DnsRecord type; zod's inferred one is structurally the same.
type DomainBody = z.infer<typeof Domain>;
const body = (v: unknown) => v as DomainBody;

domainRoutes.openapi(
  createRoute({
    operationId: "addDomain",
    method: "post",
    path: "/",
    tags,
    summary: "Add a sending domain; the answer lists the DNS records to publish",
    security,
    middleware: [limitBody, guardJson, idempotency] as const,
    request: { headers: IdempotencyHeaders, body: { required: true, content: { "application/json": { schema: AddDomainInput } } } },
    responses: { 201: json(Domain, "The new domain, pending until its records are found"), ...problems(409, 413, 415, 422) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const identities = domainIdentitiesFor(c.get("config"), input.provider);
    return c.json(body(await addDomain({ ctx: serviceCtxOf(c), input, identities })), 201);
  },
);

domainRoutes.openapi(
  createRoute({
    operationId: "listDomains",
    method: "get",
    path: "/",
    tags,
    summary: "List sending domains",
    security,
    request: { query: pageQuery({ defaultLimit: 20, maxLimit: 100, cursor: z.string() }) },
    responses: { 200: json(DomainList, "One page of domains"), ...problems(404, 422) },
  }),
  async (c) => {
    const list = await listDomains({ ctx: serviceCtxOf(c), input: c.req.valid("query") });
    return c.json({ ...list, data: list.data.map(body) }, 200);
  },
);
domainRoutes.all("/", methodNotAllowed(["GET", "POST"]));

domainRoutes.openapi(
  createRoute({
    operationId: "getDomain",
    method: "get",
    path: "/{id}",
    tags,
    summary: "Get a sending domain with its DNS records",
    security,
    request: { params: DomainIdParams },
    responses: { 200: json(Domain, "The domain"), ...problems(404) },
  }),
  async (c) => c.json(body(await getDomain({ ctx: serviceCtxOf(c), input: { domainId: c.req.valid("param").id } })), 200),
);

domainRoutes.openapi(
  createRoute({
    operationId: "deleteDomain",
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Delete a sending domain (and its provider identity)",
    security,
    request: { params: DomainIdParams },
    responses: { 204: { description: "Deleted" }, ...problems(404) },
  }),
  async (c) => {
    const ctx = serviceCtxOf(c);
    const id = c.req.valid("param").id;
    const current = await getDomain({ ctx, input: { domainId: id } });
    await deleteDomain({ ctx, input: { domainId: id }, identities: domainIdentitiesFor(c.get("config"), current.provider) });
    return c.body(null, 204);
  },
);
domainRoutes.all("/:id", methodNotAllowed(["GET", "DELETE"]));

domainRoutes.openapi(
  createRoute({
    operationId: "verifyDomain",
    method: "post",
    path: "/{id}/verify",
    tags,
    summary: "Ask the provider again whether the DNS records are published",
    security,
    request: { params: DomainIdParams },
    responses: { 200: json(Domain, "The domain with the provider's current answer"), ...problems(404) },
  }),
  async (c) => {
    const ctx = serviceCtxOf(c);
    const id = c.req.valid("param").id;
    const current = await getDomain({ ctx, input: { domainId: id } });
    const identities = domainIdentitiesFor(c.get("config"), current.provider);
    return c.json(body(await verifyDomain({ ctx, input: { domainId: id }, identities })), 200);
  },
);
domainRoutes.all("/:id/verify", methodNotAllowed(["POST"]));
