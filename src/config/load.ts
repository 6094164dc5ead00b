import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, fromZod } from '../errors/index.js';
import { configSchema, type MergeshotConfig, type MergeshotConfigInput } from './schema.js';

/**
 * Environment variables we read, and where each lands in the config. Where two land on one
 * setting, the later one in this list wins.
 */
const envMapping: Readonly<Record<string, { path: readonly string[]; kind: 'string' | 'int' | 'list' | 'boolean' | 'apiKeys' }>> = {
  MERGESHOT_TEMPLATES: { path: ['templatesDir'], kind: 'string' },
  MERGESHOT_STYLES: { path: ['stylesDir'], kind: 'string' },
  MERGESHOT_CHROMIUM: { path: ['render', 'chromiumPath'], kind: 'string' },
  MERGESHOT_PAGES: { path: ['render', 'pages'], kind: 'int' },
  MERGESHOT_RENDER_TIMEOUT_MS: { path: ['render', 'timeoutMs'], kind: 'int' },
  MERGESHOT_MAX_QUEUE: { path: ['render', 'maxQueue'], kind: 'int' },
  MERGESHOT_FETCH_ALLOW_HOSTS: { path: ['fetch', 'allowHosts'], kind: 'list' },
  // Hosting platforms (Heroku, Render, Cloud Run, Fly) say the port to listen on in PORT;
  // MERGESHOT_PORT and --port still win.
  PORT: { path: ['server', 'port'], kind: 'int' },
  MERGESHOT_PORT: { path: ['server', 'port'], kind: 'int' },
  MERGESHOT_CACHE_DIR: { path: ['server', 'cacheDir'], kind: 'string' },
  MERGESHOT_API_KEYS: { path: ['server', 'apiKeys'], kind: 'apiKeys' },
  MERGESHOT_SIGNING_KEYS: { path: ['server', 'signingKeys'], kind: 'list' },
  MERGESHOT_TOKEN_KEY: { path: ['server', 'tokenKey'], kind: 'string' },
  MERGESHOT_STUDIO_PASSWORD: { path: ['studio', 'password'], kind: 'string' },
  MERGESHOT_REDIS_URL: { path: ['distributed', 'redisUrl'], kind: 'string' },
  MERGESHOT_STORE_URL: { path: ['distributed', 'storeUrl'], kind: 'string' },
  MERGESHOT_S3_ENDPOINT: { path: ['distributed', 'endpoint'], kind: 'string' },
  AWS_REGION: { path: ['distributed', 'region'], kind: 'string' },
  MERGESHOT_S3_REGION: { path: ['distributed', 'region'], kind: 'string' },
  MERGESHOT_S3_FORCE_PATH_STYLE: { path: ['distributed', 'forcePathStyle'], kind: 'boolean' },
};

export interface LoadConfigOptions {
  /** Folder holding mergeshot.config.json (default: the working directory). */
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values from command-line flags: they win over everything else. */
  readonly overrides?: MergeshotConfigInput;
}

/** defaults < mergeshot.config.json < MERGESHOT_* env < flags; validated once, frozen. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Readonly<MergeshotConfig>> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, 'mergeshot.config.json');
  let fromFile: Record<string, unknown> = {};
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError('CONFIG_INVALID', `${path}: not valid JSON (${(error as Error).message}).`, { source: path });
    }
  }
  const merged = deepMerge(deepMerge(fromFile, fromEnv(options.env ?? process.env)), (options.overrides ?? {}) as Record<string, unknown>);
  return parseConfig(merged, `${text === undefined ? 'config' : path} (+ MERGESHOT_* env, flags)`, cwd);
}

export function parseConfig(input: unknown, source = 'config', cwd = process.cwd()): Readonly<MergeshotConfig> {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError('CONFIG_INVALID', fromZod(result.error.issues, source, [...Object.keys(configSchema.shape), 'pages', 'timeoutMs', 'maxQueue', 'recycleAfter', 'chromiumPath', 'allowHosts', 'maxBytes', 'maxPixels', 'maxLength', ...Object.keys(configSchema.shape.server.unwrap().shape), ...Object.keys(configSchema.shape.studio.unwrap().shape), ...Object.keys(configSchema.shape.distributed.unwrap().shape), 'name', 'key', 'scopes']).join('\n'), { source });
  }
  const config = result.data;
  const server = { ...config.server, cacheDir: resolve(cwd, config.server.cacheDir), batchesDir: resolve(cwd, config.server.batchesDir) };
  const studio = { ...config.studio, dataDir: resolve(cwd, config.studio.dataDir) };
  return Object.freeze({ ...config, templatesDir: resolve(cwd, config.templatesDir), stylesDir: resolve(cwd, config.stylesDir), server, studio });
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, { path, kind }] of Object.entries(envMapping)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (kind === 'int') {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError('CONFIG_INVALID', `env ${name} must be a whole number, got ${raw.length} characters that are not one. Example: ${name}=4`, { source: `env ${name}` });
      value = Number(raw);
    } else if (kind === 'boolean') {
      if (!/^(true|false|1|0)$/i.test(raw.trim())) throw new ConfigError('CONFIG_INVALID', `env ${name} must be true or false, got ${raw.length} characters that are neither. Example: ${name}=true`, { source: `env ${name}` });
      value = /^(true|1)$/i.test(raw.trim());
    } else if (kind === 'list') {
      value = listItems(raw);
    } else if (kind === 'apiKeys') {
      value = listItems(raw).map(apiKeyItem);
    }
    let node = out;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = value;
  }
  return out;
}

function listItems(raw: string): string[] {
  return raw.split(',').map((item) => item.trim()).filter(Boolean);
}

/**
 * One entry of MERGESHOT_API_KEYS: `<name>:<scope>[+<scope>…]:<key>` is a scoped key (e.g.
 * `ci:render+campaigns:3fX…`), anything else a plain render-only key as before. Keys made with
 * `openssl rand -base64 24` or hex never hold a ":", so a plain key is never read as scoped.
 * The scopes are checked by the schema, which names the key and the valid scopes.
 */
function apiKeyItem(item: string): string | { name: string; scopes: string[]; key: string } {
  const scoped = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,39}):([A-Za-z_+-]*):(.+)$/.exec(item);
  return scoped ? { name: scoped[1]!, scopes: scoped[2]!.split('+').filter(Boolean), key: scoped[3]! } : item;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
