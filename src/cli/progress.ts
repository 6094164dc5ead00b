import cliProgress from 'cli-progress';

export interface Progress {
  tick(status: 'ok' | 'warning' | 'failed'): void;
  log(line: string): void;
  stop(): void;
}

/**
 * A bar with rate and ETA on a terminal; plain periodic lines otherwise (CI logs, pipes).
 * `verb` says what happens to a row ("rendered", "checked").
 */
export function createProgress(total: number | undefined, stream: NodeJS.WriteStream = process.stderr, verb = 'rendered'): Progress {
  const counts = { ok: 0, warning: 0, failed: 0 };
  const started = Date.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: ' {bar} {value}/{total} rows | {rate}/s | ETA {eta_formatted} | {failed} failed', hideCursor: true, stream, etaBuffer: 50, noTTYOutput: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { rate: '0.0', failed: 0 });
    return {
      tick(status) {
        counts[status] += 1;
        const done = counts.ok + counts.warning + counts.failed;
        if (total === undefined) bar.setTotal(done);
        bar.update(done, { rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1), failed: counts.failed });
      },
      log(line) {
        stream.write(`\r\x1b[K${line}\n`);
      },
      stop() {
        bar.stop();
      },
    };
  }
  let lastPrint = Date.now();
  const print = () => {
    const done = counts.ok + counts.warning + counts.failed;
    const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
    stream.write(`${verb} ${done}${total ? `/${total}` : ''} rows (${counts.warning} with warnings, ${counts.failed} failed), ${rate.toFixed(1)} rows/s\n`);
  };
  return {
    tick(status) {
      counts[status] += 1;
      if (Date.now() - lastPrint > 2_000) {
        lastPrint = Date.now();
        print();
      }
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    stop() {
      print();
    },
  };
}
