// What the keeper holds open for containers so that a monitor's death loses nothing: one descriptor
// per container, taken and let go as the container records say. Subclasses say what to hold.
import fs from 'node:fs';
import path from 'node:path';
import { ContainerDir, containersRoot, type StateRecord } from './records';

export abstract class FdHolds {
  /** Container id → our descriptor. */
  protected readonly held = new Map<string, number>();
  /** Containers that will never need one: their records are not read again. */
  protected readonly never = new Set<string>();

  constructor(private readonly runDir: string) {}

  /** One pass over the container records; cheap for containers already known. */
  sync(): void {
    const root = containersRoot(this.runDir);
    const ids = fs.existsSync(root) ? fs.readdirSync(root) : [];
    const present = new Set(ids);
    for (const id of this.held.keys()) if (!present.has(id)) this.release(id);
    for (const id of this.never) if (!present.has(id)) this.never.delete(id);
    for (const id of ids) {
      if (this.never.has(id)) continue;
      const dir = new ContainerDir(path.join(root, id));
      let state;
      try {
        state = dir.readState();
      } catch {
        continue; // being written or removed: the next pass sees it
      }
      if (state) this.syncOne(id, dir, state);
    }
  }

  /** Takes, keeps or lets go of the one container's descriptor. */
  protected abstract syncOne(id: string, dir: ContainerDir, state: StateRecord): void;

  protected release(id: string): void {
    const fd = this.held.get(id);
    this.held.delete(id);
    if (fd !== undefined) fs.closeSync(fd);
  }
}
