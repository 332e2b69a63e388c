/**
 * The one way route groups are built: an OpenAPIHono whose failed request validation becomes our 422
 * problem (field paths prefixed by where the value came from: `query.limit`, `body.recipients.3.to` are
 * reported as `limit`, `recipients.3.to`, the way clients name them).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../hono-env";
import { validationError } from "./problem";

export function openApiApp(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
}
