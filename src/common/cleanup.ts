// The undo stack of an operation with side effects: each acquisition registers its undo on the
// next line; commit() on success drops them, otherwise they run in reverse order. A failing undo
// is logged and the rest still run, and the original error is what the caller sees.
import type { Logger } from './log';

class Cleanup {
  private steps: { what: string; undo: () => unknown }[] = [];

  constructor(private readonly log: Logger) {}

  defer(what: string, undo: () => unknown): void {
    this.steps.push({ what, undo });
  }

  commit(): void {
    this.steps = [];
  }

  async rollback(): Promise<void> {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const step of steps) {
      try {
        await step.undo();
      } catch (err) {
        this.log.warn({ err, step: step.what }, 'cleanup step failed');
      }
    }
  }
}

/** Runs `fn` with a cleanup stack that is rolled back if `fn` throws. */
export async function withCleanup<T>(log: Logger, fn: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup(log);
  try {
    const result = await fn(cleanup);
    cleanup.commit();
    return result;
  } catch (err) {
    await cleanup.rollback();
    throw err;
  }
}
