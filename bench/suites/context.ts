// What every bench suite gets: both runtimes by name, its settings, a log directory, progress output.
import type { PodPlace } from '../lib/pods';
import type { TestRegistry } from '../../test/support/registry';
import type { Peer } from '../setup/peers';
import type { RuntimeName } from '../lib/stats';

export interface BenchContext {
  peers: Record<RuntimeName, Peer>;
  /** The bench registry, for a suite that starts runtimes of its own. */
  registry: TestRegistry;
  /** Where a runtime's pods write their logs and put their cgroups (removed at the end). */
  place(rt: RuntimeName): PodPlace;
  progress(message: string): void;
  /** Runs fn when the bench ends, also when it is interrupted (a suite's own undo, made idempotent). */
  defer(fn: () => Promise<void>): void;
}

/** A setting from the environment (BENCH_*), a number with a default. */
export function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`Cannot read ${name}='${raw}': not a number >= 0`);
  return value;
}
