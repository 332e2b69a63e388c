/** What every business verb gets: the caller's tenant and the infrastructure it may touch. Transport-agnostic. */
import type { ApiKeyMode } from "../../core/domain/api-keys";
import type { Region } from "../../core/contract";
import type { Db } from "../adapters/db";
import type { Publisher } from "../adapters/publisher";
import type { Wakeups } from "../adapters/wakeups";

export interface ServiceCtx {
  db: Db;
  tenantId: string;
  /** `test` keys force dry runs. */
  mode: ApiKeyMode;
  /** The calling key's scopes: a key can grant only scopes it holds itself (absent: it grants none). */
  scopes?: readonly string[];
  traceId: string;
  requestId?: string;
  actor: string;
  publisher: Publisher;
  /** Wakes the region's BatchScheduler so scheduled batches start on time. */
  wakeups: Wakeups;
  defaultRegion: Region;
}
