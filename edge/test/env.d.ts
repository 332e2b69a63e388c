// Types of `env` / `exports` from "cloudflare:workers" inside the worker tests.
import type { Bindings } from "../env";

declare global {
  namespace Cloudflare {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Env extends Bindings {}
  }
}
