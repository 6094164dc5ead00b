// A worker thread starts without the TypeScript loader its parent runs under (bin/mergeshot.js,
// `node --import tsx`, vitest): register tsx here, then load the worker's .ts entry it was given.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
