// Work nobody awaits goes through runInBackground: its failure is logged with what the work was,
// instead of surfacing as an unhandled rejection that says nothing of where it came from (or as
// `void p.finally(…)`, which rethrows the failure into exactly that). The process roles install
// exitOnUnhandledRejection for whatever still slips through.
import type { Logger } from './log';

/** Errors a background work failed with, and what that work was: the origin of a later rejection. */
const origins = new WeakMap<object, string>();

/**
 * Starts `work` (a promise already running, or a function to call now) without waiting for it.
 * A failure, thrown or rejected, is logged as an error naming `what`; it never escapes.
 */
export function runInBackground(log: Logger, what: string, work: Promise<unknown> | (() => unknown)): void {
  let running: Promise<unknown>;
  try {
    running = Promise.resolve(typeof work === 'function' ? work() : work);
  } catch (err) {
    running = Promise.reject(err);
  }
  running.then(undefined, (err: unknown) => {
    if (typeof err === 'object' && err !== null) origins.set(err, what);
    try {
      log.error({ err, background: what }, `Background work failed: ${what}`);
    } catch {
      // A logger that cannot write has nowhere to say so either.
    }
  });
}

/** What background work failed with `err`, if any did. */
export function backgroundOrigin(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? origins.get(err) : undefined;
}

/**
 * Logs a promise rejection nobody handled, with the error's stack and the background work it came
 * from, then exits with status 1. That is Node's own default (--unhandled-rejections=throw), only
 * with the reason in the log: a process whose invariants broke at an unknown point is better
 * restarted (the daemon rebuilds from disk, a new monitor adopts the containers, the agent resyncs)
 * than left running half-broken. Returns the function that stops listening (tests).
 */
export function exitOnUnhandledRejection(
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  const onRejection = (reason: unknown) => {
    const background = backgroundOrigin(reason);
    const stack = reason instanceof Error ? reason.stack : String(reason);
    log.fatal({ err: reason, stack, background }, 'Unhandled promise rejection; exiting');
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
