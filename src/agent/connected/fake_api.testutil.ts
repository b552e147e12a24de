// A recording fake of the API server for connected mode's unit tests: requests are recorded and
// answered by a handler; watches are driven by the test (send events, end them, fail them).
import { KubeApi, KubeApiError, KubeObject, RequestOptions, WatchEventType } from './kube_api';

export interface RecordedRequest {
  method: string;
  path: string;
  options: RequestOptions;
}

export interface FakeWatch {
  path: string;
  query: Record<string, unknown>;
  send(type: WatchEventType, object: KubeObject): void;
  end(err?: unknown): void;
  aborted: boolean;
}

export class FakeKubeApi implements KubeApi {
  readonly requests: RecordedRequest[] = [];
  readonly watches: FakeWatch[] = [];
  handler: (req: RecordedRequest) => unknown = () => ({});

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const req = { method, path, options };
    this.requests.push(req);
    return (await this.handler(req)) as T;
  }

  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: WatchEventType, object: KubeObject) => void,
    done: (err?: unknown) => void,
  ) {
    const w: FakeWatch = {
      path,
      query,
      aborted: false,
      send: (type, object) => !w.aborted && onEvent(type, object),
      end: (err) => {
        if (w.aborted) return;
        w.aborted = true;
        done(err);
      },
    };
    this.watches.push(w);
    return { abort: () => void (w.aborted = true) };
  }

  sent(method: string, pathPart = ''): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.includes(pathPart));
  }
}

export const apiError = (code: number, reason = '') =>
  new KubeApiError(code, reason, `fake ${code} ${reason}`);

export async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
