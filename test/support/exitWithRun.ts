/**
 * A vitest setup file: a test worker (a `forks` child) exits when the run that started it is
 * gone. vitest's worker outlives a SIGKILLed main process (its IPC channel closes, nothing
 * else happens), and with it every process a test file started; exiting lets each of those go
 * the way its owner arranged (redis-server: its parent-death signal, support/redis.ts).
 * Installed once per worker, however many files it runs.
 */
const installed = Symbol.for('mergeshot.exitWithRun');
const worker = process as NodeJS.Process & { [installed]?: true };

if (worker.send !== undefined && !worker[installed]) {
  worker[installed] = true;
  process.once('disconnect', () => process.exit(1));
}
