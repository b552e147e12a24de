// Names are reserved before the first side effect, as containerd does: two requests for the same
// pod or container name cannot both proceed, and a retry of a failed one finds the name free.
import { alreadyExists } from '../../common/errors';

export class NameIndex {
  private readonly owners = new Map<string, string>();

  reserve(name: string, id: string): void {
    const owner = this.owners.get(name);
    if (owner !== undefined && owner !== id) {
      throw alreadyExists(`Cannot reserve name '${name}': it is in use by '${owner}'`);
    }
    this.owners.set(name, id);
  }

  release(name: string): void {
    this.owners.delete(name);
  }
}
