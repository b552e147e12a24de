// One record per pod network under `<cacheDir>/results/<podId>.json`, like libcni's result cache:
// the exact conflist, arguments and runtimeConfig the ADD used and its final result. DEL replays
// them, so teardown works after a restart and after the pod CIDR (and so the conflist) changed.
// The record is written before the ADD as well, without a result: a daemon that dies half way
// through an ADD still knows what to DEL.
import fs from 'node:fs';
import path from 'node:path';
import type { NetworkConfList } from './conf';
import type { RawResult } from './invoke';
import { writeFileAtomic } from '../common/atomic_write';

export const CACHE_RECORD_VERSION = 1;

export interface NetworkRecord {
  version: typeof CACHE_RECORD_VERSION;
  podId: string;
  netnsPath: string;
  ifName: string;
  list: NetworkConfList;
  cniArgs: Record<string, string>;
  /** Values for the plugins' capabilities (portMappings, bandwidth). */
  runtimeConfig: Record<string, unknown>;
  /** The final ADD result as the plugins printed it (DEL gets it back verbatim); absent until the ADD succeeded. */
  result?: RawResult;
}

export class NetworkCache {
  private readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = path.join(cacheDir, 'results');
  }

  save(record: NetworkRecord): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file(record.podId), JSON.stringify(record));
  }

  /** The record, or undefined when there is none (or it cannot be read: logged by the caller). */
  load(podId: string): NetworkRecord | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file(podId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const record = JSON.parse(text) as NetworkRecord;
    if (record.version !== CACHE_RECORD_VERSION) {
      throw new Error(
        `Cannot read network record '${this.file(podId)}': version ${record.version} is unknown`,
      );
    }
    return record;
  }

  remove(podId: string): void {
    fs.rmSync(this.file(podId), { force: true });
  }

  /** Pod ids that have a record, for recovery after a restart. */
  list(): string[] {
    try {
      return fs
        .readdirSync(this.dir)
        .filter((n) => n.endsWith('.json'))
        .map((n) => n.slice(0, -'.json'.length));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private file(podId: string): string {
    return path.join(this.dir, `${podId}.json`);
  }
}
