// A KubeApi whose credentials can change under it (client certificate rotation): requests go to the
// newest client, and on reload every open watch is ended with an error, so that its list-watch loop
// starts it again on a new connection with the new certificate, as the kubelet closes its
// connections after a rotation.
import type { KubeApi } from './kube_api';

export class ReloadingKubeApi implements KubeApi {
  private current: KubeApi;
  private readonly watches = new Set<{ abort(): void; done: (err?: unknown) => void }>();

  constructor(private readonly load: () => KubeApi) {
    this.current = load();
  }

  /** Loads the kubeconfig again and ends the watches of the old client. */
  reload(): void {
    this.current = this.load();
    for (const w of [...this.watches]) {
      this.watches.delete(w);
      w.abort();
      w.done(new Error('the client certificate was rotated: watching again'));
    }
  }

  request: KubeApi['request'] = (method, path, options) => this.current.request(method, path, options);

  watch: KubeApi['watch'] = (path, query, onEvent, done) => {
    const entry = { abort: () => undefined as void, done };
    const handle = this.current.watch(path, query, onEvent, (err) => {
      if (this.watches.delete(entry)) done(err);
    });
    entry.abort = () => handle.abort();
    this.watches.add(entry);
    return {
      abort: () => {
        this.watches.delete(entry);
        handle.abort();
      },
    };
  };
}
