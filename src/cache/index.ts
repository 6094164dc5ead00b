export { cacheKey, cacheKeyPattern, canonicalJson, type CacheKeyInput } from './key.js';
export type { CacheEntry, CacheMeta, CacheStats, CacheStore } from './store.js';
export { DiskStore, type DiskStoreOptions } from './diskStore.js';
export { MemoryLayer } from './memoryLayer.js';
export { SingleFlight } from './singleFlight.js';
