// Host id ranges for pods with hostUsers: false, as the kubelet's userns manager
// (pkg/kubelet/userns): each pod gets one block of 65536 host ids, aligned to 65536, used for both
// its uids and gids (container ids 0..65535). The block is written to <pod dir>/userns in the
// kubelet's format, so a restarted agent reads back what its running pods use; it is free again
// once the pod's directory is gone.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic_write';
import { resourceExhausted } from '../common/errors';

/** The ids a pod's user namespace holds: container ids 0..length-1 are host ids hostId.... */
export interface PodIdRange {
  hostId: number;
  length: number;
}

export const USERNS_BLOCK = 65536;
/** The kubelet's default without a `kubelet` entry in /etc/subuid: host ids 65536 up to 2^32, block 0 (the host's own users) never. */
export const DEFAULT_USERNS_RANGE = { firstId: USERNS_BLOCK, length: USERNS_BLOCK * (USERNS_BLOCK - 1) };
/** The file in the pod's directory (the kubelet's name). */
export const USERNS_FILE = 'userns';

interface MappingsFile {
  uidMappings: { hostId: number; containerId: number; length: number }[];
  gidMappings: { hostId: number; containerId: number; length: number }[];
}

export class UserNamespaceAllocator {
  private readonly firstBlock: number;
  private readonly blocks: number;
  /** Block index → pod uid, and back. */
  private readonly owners = new Map<number, string>();
  private readonly byPod = new Map<string, number>();

  constructor(
    private readonly podsDir: string,
    range: { firstId: number; length: number } = DEFAULT_USERNS_RANGE,
  ) {
    if (range.firstId % USERNS_BLOCK !== 0 || range.length % USERNS_BLOCK !== 0 || range.firstId === 0) {
      throw new Error(
        `user namespace id range ${range.firstId}+${range.length} must be 65536-aligned and leave out ids 0-65535`,
      );
    }
    this.firstBlock = range.firstId / USERNS_BLOCK;
    this.blocks = range.length / USERNS_BLOCK;
  }

  /**
   * Takes back the blocks the pods on disk hold (at start). A file that cannot be used (not the
   * agent's block layout, out of the range, a block another pod holds) is reported, its pod left without one.
   */
  recover(): { uid: string; problem: string }[] {
    const problems: { uid: string; problem: string }[] = [];
    let uids: string[];
    try {
      uids = fs.readdirSync(this.podsDir);
    } catch {
      return problems;
    }
    for (const uid of uids) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(this.podsDir, uid, USERNS_FILE), 'utf8');
      } catch {
        continue;
      }
      try {
        const block = this.blockOf(JSON.parse(text) as MappingsFile);
        const owner = this.owners.get(block);
        if (owner !== undefined) throw new Error(`its block is pod ${owner}'s too`);
        this.take(uid, block);
      } catch (err) {
        problems.push({ uid, problem: err instanceof Error ? err.message : String(err) });
      }
    }
    return problems;
  }

  /** The pod's range: the one it holds, or a new one written to its directory. */
  podRange(uid: string): PodIdRange {
    let block = this.byPod.get(uid);
    if (block === undefined) {
      block = this.freeBlock();
      const hostId = block * USERNS_BLOCK;
      const mapping = [{ hostId, containerId: 0, length: USERNS_BLOCK }];
      const dir = path.join(this.podsDir, uid);
      fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
      const file: MappingsFile = { uidMappings: mapping, gidMappings: mapping };
      writeFileAtomic(path.join(dir, USERNS_FILE), JSON.stringify(file), 0o600);
      this.take(uid, block);
    }
    return { hostId: block * USERNS_BLOCK, length: USERNS_BLOCK };
  }

  /** The pod's directory is gone: its block is free. */
  release(uid: string): void {
    const block = this.byPod.get(uid);
    if (block === undefined) return;
    this.byPod.delete(uid);
    this.owners.delete(block);
  }

  private take(uid: string, block: number): void {
    this.owners.set(block, uid);
    this.byPod.set(uid, block);
  }

  private freeBlock(): number {
    for (let b = this.firstBlock; b < this.firstBlock + this.blocks; b++) if (!this.owners.has(b)) return b;
    throw resourceExhausted(
      `no free user namespace id range: all ${this.blocks} blocks of ${USERNS_BLOCK} ids are in use`,
    );
  }

  private blockOf(file: MappingsFile): number {
    const [u] = file.uidMappings ?? [];
    const [g] = file.gidMappings ?? [];
    if (file.uidMappings?.length !== 1 || file.gidMappings?.length !== 1 || !u || !g) {
      throw new Error('it does not hold one uid and one gid mapping');
    }
    if (u.hostId !== g.hostId || u.length !== g.length || u.containerId !== 0 || g.containerId !== 0) {
      throw new Error('its uid and gid mappings differ or do not start at container id 0');
    }
    if (u.length !== USERNS_BLOCK || u.hostId % USERNS_BLOCK !== 0) {
      throw new Error(`its mapping ${u.hostId}+${u.length} is not one 65536-aligned block`);
    }
    const block = u.hostId / USERNS_BLOCK;
    if (block < this.firstBlock || block >= this.firstBlock + this.blocks) {
      throw new Error(`its mapping ${u.hostId}+${u.length} is outside the node's range`);
    }
    return block;
  }
}
