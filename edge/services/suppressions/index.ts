/** The suppression verbs: transport-agnostic, scoped to the caller's tenant and key mode. */
export { listSuppressions, type ListSuppressionsInput, type SuppressionList } from "./list-suppressions";
export { addSuppression, getSuppression, removeSuppression, type AddSuppressionInput } from "./manage-suppression";
export { importSuppressions, MAX_IMPORT_ROWS, type ImportResult } from "./import-suppressions";
export { exportSuppressions, EXPORT_COLUMNS, type SuppressionExport } from "./export-suppressions";
export type { SuppressionView } from "./suppression-view";
