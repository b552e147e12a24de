// SIGTERM and SIGINT are caught from the first line of a command, not only once it serves: a signal
// that lands during start-up would otherwise take the default action and kill a half-started
// process, leaving its socket and state behind. The first signal asks for a clean stop, after
// start-up if it is still going on; a second one means "now" and exits at once.
import type { Logger } from '../common/log';

export interface StopSignal {
  /** Resolves with the first SIGTERM or SIGINT, whenever it came. */
  readonly received: Promise<NodeJS.Signals>;
  /** Stops catching them (start-up failed: the process is on its way out). */
  dispose(): void;
}

export function catchStopSignals(log: Logger, onFirst: string): StopSignal {
  let first: NodeJS.Signals | undefined;
  let resolve!: (signal: NodeJS.Signals) => void;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onSignal = (signal: NodeJS.Signals) => {
    if (first) {
      log.warn({ signal, first }, 'second stop signal; exiting without finishing the clean stop');
      process.exit(1);
    }
    first = signal;
    log.info({ signal }, onFirst);
    resolve(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    received,
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
