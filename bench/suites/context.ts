// What every bench suite gets: both runtimes by name, its settings, a log directory, progress output.
import type { PodPlace } from '../lib/pods';
import type { Peer } from '../setup/peers';
import type { RuntimeName } from '../lib/stats';

export interface BenchContext {
  peers: Record<RuntimeName, Peer>;
  /** Where a runtime's pods write their logs and put their cgroups (removed at the end). */
  place(rt: RuntimeName): PodPlace;
  progress(message: string): void;
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
