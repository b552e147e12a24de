// The spec directories as CreateContainer reads them: rescanned for each container that asks for
// CDI devices (a driver may write its spec a moment before the pod comes), so no watcher is kept.
// A broken spec file is logged once per distinct complaint, not on every container.
import type { Logger } from '../../common/log';
import { loadCdiRegistry, type CdiRegistry } from './registry';

export const DEFAULT_CDI_SPEC_DIRS = ['/etc/cdi', '/var/run/cdi'];

export class CdiSpecDirs {
  private reported = new Map<string, string>();

  constructor(
    readonly dirs: readonly string[],
    private readonly log: Logger,
  ) {}

  async load(): Promise<CdiRegistry> {
    const registry = await loadCdiRegistry(this.dirs);
    for (const [where, messages] of registry.errors) {
      const text = messages.join('; ');
      if (this.reported.get(where) === text) continue;
      this.reported.set(where, text);
      this.log.warn({ file: where, error: text }, 'CDI spec skipped');
    }
    for (const where of [...this.reported.keys()])
      if (!registry.errors.has(where)) this.reported.delete(where);
    return registry;
  }
}
