export { cacheKey, canonicalJson, type CacheKeyInput } from './key.js';
export { type CacheContentType, type CacheEntry, type CacheMeta, type CacheStats, type CacheStore, type PurgeFilter, assertCacheable } from './store.js';
export { cacheKeyPattern } from './key.js';
export { decodeEntry, encodeEntry } from './entryCodec.js';
export { DiskStore, type DiskStoreOptions } from './diskStore.js';
export { MemoryLayer } from './memoryLayer.js';
export { SingleFlight } from './singleFlight.js';
