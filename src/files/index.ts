/** Durable file writes, shared by the disk cache and the front ends' outputs. */
export { writeFileAtomic, type AtomicWriteOptions } from './atomicWrite.js';
