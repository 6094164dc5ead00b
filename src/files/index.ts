/** Durable file writes, shared by the disk cache and the front ends' outputs; reads and writes confined to their folder. */
export { writeFileAtomic, type AtomicWriteOptions } from './atomicWrite.js';
export { confinedPath, FileError, linkInfo, listTree, readConfined, readConfinedSync, refuseLinkedFolder, writeConfined, type LinkInfo, type TreeEntry } from './confined.js';
