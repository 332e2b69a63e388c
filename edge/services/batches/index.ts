/** The batch verbs: transport-agnostic, tenant-scoped, called by edge/routes and (later) NATS handlers. */
export { createBatch, type CreatedBatch } from "./create-batch";
export { AppendRecipientsInput, CreateBatchInput, MAX_RECIPIENTS } from "./create-batch-input";
export { appendRecipients, type AppendRecipientsResult } from "./append-recipients";
export { appendRecipientRows, MAX_ROW_ERRORS, type UploadRow } from "./stream-recipients";
export { listRecipients, type ListRecipientsInput, type RecipientList, type RecipientView } from "./list-recipients";
export { sendBatch, queuePendingRecipients, type TransitionResult } from "./send-batch";
export { pauseBatch, resumeBatch, cancelBatch, retryBatch } from "./control-batch";
export { getBatch, listBatches, type ListBatchesInput, type BatchList, type BatchDetailView } from "./read-batches";
export { enqueuePlan, publishOutboxRow, regionOfSubject, type OutboxRow } from "./outbox";
export { toBatchView, type BatchView } from "./batch-view";
export { previewRecipient, type RecipientPreview } from "./preview-recipient";
export { deleteBatch, DELETE_STEP, type DeletedBatch } from "./delete-batch";
