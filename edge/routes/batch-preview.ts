/** GET /v1/batches/{id}/preview?recipient=…: one recipient's message, rendered as it would be sent. */
import { createRoute, z } from "@hono/zod-openapi";
import { openApiApp } from "../http/openapi-app";
import { methodNotAllowed } from "../http/problem";
import { serviceCtxOf } from "../http/service-ctx-of";
import { previewRecipient } from "../services/batches";
import { json } from "./batch-schemas";
import { BatchIdParams, problems } from "./shared-schemas";

export const batchPreviewRoutes = openApiApp();

const Headers = z.record(z.string(), z.string());
const Preview = z
  .object({
    object: z.literal("preview"),
    recipient: z.object({ id: z.string(), to: z.string() }),
    message: z
      .discriminatedUnion("channel", [
        z.object({
          channel: z.literal("email"),
          from: z.string(),
          replyTo: z.string().nullable(),
          subject: z.string(),
          html: z.string().nullable(),
          text: z.string().nullable(),
          headers: Headers,
        }),
        z.object({
          channel: z.literal("sms"),
          from: z.string().nullable(),
          text: z.string(),
          segments: z.object({ encoding: z.enum(["GSM-7", "UCS-2"]), segments: z.number().int(), characters: z.number().int() }),
        }),
        z.object({ channel: z.literal("webhook"), url: z.string(), method: z.string(), headers: Headers, body: z.string() }),
      ])
      .nullable(),
    problem: z.string().nullable().openapi({ description: "Why this recipient would fail (render error or provider limit), or null" }),
  })
  .openapi("RecipientPreview");

const previewRoute = createRoute({
  method: "get",
  path: "/{id}/preview",
  operationId: "previewRecipient",
  tags: ["Batches"],
  summary: "Render one recipient's message without sending it",
  security: [{ apiKey: [] }],
  request: {
    params: BatchIdParams,
    query: z.object({
      recipient: z
        .string()
        .min(1)
        .max(2048)
        .openapi({ param: { name: "recipient", in: "query" }, description: "A recipient id or address", example: "ada@example.com" }),
    }),
  },
  responses: { 200: json(Preview, "The rendered message"), ...problems(404, 422) },
});

batchPreviewRoutes.openapi(previewRoute, async (c) => {
  const input = { batchId: c.req.valid("param").id, recipient: c.req.valid("query").recipient };
  return c.json(await previewRecipient({ ctx: serviceCtxOf(c), input }), 200);
});
batchPreviewRoutes.all("/:id/preview", methodNotAllowed(["GET"]));
