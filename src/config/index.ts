export { apiScopes, configSchema, studioPrincipal, type ApiKeySpec, type ApiScope, type MergeshotConfig, type MergeshotConfigInput } from './schema.js';
export { loadConfig, parseConfig, type LoadConfigOptions } from './load.js';
