// One JSON record per object (<dir>/<id>.json), written to a temp file, fsynced and renamed, so a
// crash leaves either the old record or the new one, never half of each. Every change goes through
// update(), serialized per id; memory is only changed after the record is on disk.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomic_write';
import { invalidArgument, notFound } from '../../common/errors';
import { KeyedQueue } from '../../common/keyed_queue';

export interface VersionedRecord {
  version: number;
  id: string;
}

/** A change made visible: before is absent for a create, after for a delete. */
export interface RecordChange<T> {
  before?: T;
  after?: T;
}

export class RecordStore<T extends VersionedRecord> {
  private readonly records = new Map<string, T>();
  private readonly locks = new KeyedQueue();
  private readonly watchers = new Set<(change: RecordChange<T>) => void>();

  constructor(
    private readonly dir: string,
    private readonly kind: string,
    private readonly version: number,
  ) {}

  /** Reads every record from disk; unreadable ones are returned by name so the caller can log them. */
  load(): { loaded: T[]; broken: string[] } {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const broken: string[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      if (!name.endsWith('.json')) {
        if (name.endsWith('.tmp')) fs.rmSync(path.join(this.dir, name), { force: true });
        continue;
      }
      try {
        const rec = JSON.parse(fs.readFileSync(path.join(this.dir, name), 'utf8')) as T;
        if (rec.version !== this.version) throw new Error(`record version ${rec.version}`);
        this.records.set(rec.id, rec);
      } catch {
        broken.push(name);
      }
    }
    return { loaded: [...this.records.values()], broken };
  }

  list(): T[] {
    return [...this.records.values()];
  }

  /** By full id or an unambiguous prefix, as crictl users type them. */
  find(idOrPrefix: string): T | undefined {
    if (!idOrPrefix) return undefined;
    const exact = this.records.get(idOrPrefix);
    if (exact) return exact;
    const matches = [...this.records.keys()].filter((id) => id.startsWith(idOrPrefix));
    if (matches.length > 1) {
      throw invalidArgument(`Cannot find ${this.kind} '${idOrPrefix}': the prefix matches ${matches.length}`);
    }
    return matches.length === 1 ? this.records.get(matches[0]) : undefined;
  }

  get(idOrPrefix: string): T {
    const rec = this.find(idOrPrefix);
    if (!rec) throw notFound(`${this.kind} '${idOrPrefix}' not found`);
    return rec;
  }

  async create(rec: T): Promise<T> {
    return this.withLock(rec.id, async () => {
      this.write(rec);
      this.records.set(rec.id, rec);
      this.tell({ after: rec });
      return rec;
    });
  }

  /** Applies `change` to the current record under the id's lock; writes before the change is seen. */
  async update(id: string, change: (current: T) => T): Promise<T> {
    return this.withLock(id, async () => {
      const current = this.records.get(id);
      if (!current) throw notFound(`${this.kind} '${id}' not found`);
      const next = change(current);
      if (next !== current) {
        this.write(next);
        this.records.set(id, next);
        this.tell({ before: current, after: next });
      }
      return next;
    });
  }

  async delete(id: string): Promise<void> {
    await this.withLock(id, async () => {
      const before = this.records.get(id);
      fs.rmSync(this.fileOf(id), { force: true });
      this.records.delete(id);
      if (before) this.tell({ before });
    });
  }

  /**
   * Calls `fn` after each create, update and delete, once memory shows the change (records read by
   * load() at start are not changes). Returns the function that stops watching.
   */
  watch(fn: (change: RecordChange<T>) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private tell(change: RecordChange<T>): void {
    // A watcher's failure is its own: the change is already on disk and must stay visible.
    for (const fn of this.watchers) {
      try {
        fn(change);
      } catch {
        // Watchers log their own errors.
      }
    }
  }

  /** Runs `fn` with the id's lock held: one change at a time per object. */
  withLock<R>(id: string, fn: () => Promise<R>): Promise<R> {
    return this.locks.run(id, fn);
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  private write(rec: T): void {
    writeFileAtomic(this.fileOf(rec.id), JSON.stringify(rec));
  }
}
