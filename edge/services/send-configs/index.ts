/** The send-config verbs (issue 8): transport-agnostic, tenant-scoped. */
export { CreateSendConfigInput, UpdateSendConfigInput, SendConfigDefaults } from "./send-config-input";
export { createSendConfig, updateSendConfig } from "./write-send-config";
export { listSendConfigs, getSendConfig, deleteSendConfig, type SendConfigList } from "./read-send-configs";
export { toSendConfigView, type SendConfigView } from "./send-config-view";
