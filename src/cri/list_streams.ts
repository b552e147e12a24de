// The Stream* RPCs (Kubernetes 1.36) are their List* twins sent in pages, so a node with many pods
// or images never has to fit its answer in one gRPC message. As containerd does: the same filter,
// the same items, pages of at most PAGE_ITEMS items and about PAGE_BYTES bytes, and no message at
// all for an empty list. Derived here once from whatever List* a service implements.
import type { CallContext, StreamSink } from './rpc';

const PAGE_ITEMS = 5000;
/** Below the 16 MiB message limit with room to spare; JSON overestimates the protobuf size. */
const PAGE_BYTES = 8 << 20;

interface ListTwin {
  stream: string;
  list: string;
  /** The repeated field of the List* response, and of the Stream* response. */
  from: string;
  to: string;
}

const LIST_TWINS: readonly ListTwin[] = [
  { stream: 'StreamPodSandboxes', list: 'ListPodSandbox', from: 'items', to: 'pod_sandboxes' },
  { stream: 'StreamContainers', list: 'ListContainers', from: 'containers', to: 'containers' },
  { stream: 'StreamContainerStats', list: 'ListContainerStats', from: 'stats', to: 'container_stats' },
  { stream: 'StreamPodSandboxStats', list: 'ListPodSandboxStats', from: 'stats', to: 'pod_sandbox_stats' },
  {
    stream: 'StreamPodSandboxMetrics',
    list: 'ListPodSandboxMetrics',
    from: 'pod_metrics',
    to: 'pod_sandbox_metrics',
  },
  { stream: 'StreamImages', list: 'ListImages', from: 'images', to: 'images' },
];

type Unary = (req: unknown, ctx: CallContext) => Promise<Record<string, unknown[] | undefined>>;
type Stream = (req: unknown, sink: StreamSink<unknown>, ctx: CallContext) => Promise<void>;

/** Splits items into pages bounded by count and by (estimated) size. */
export function pages<T>(items: readonly T[], maxItems = PAGE_ITEMS, maxBytes = PAGE_BYTES): T[][] {
  const out: T[][] = [];
  let page: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = JSON.stringify(item)?.length ?? 0;
    if (page.length > 0 && (page.length >= maxItems || bytes + size > maxBytes)) {
      out.push(page);
      page = [];
      bytes = 0;
    }
    page.push(item);
    bytes += size;
  }
  if (page.length > 0) out.push(page);
  return out;
}

/** The implementation with a Stream* added for every List* it has and whose Stream* it lacks. */
export function withListStreams<I extends object>(impl: I): I {
  const methods = impl as Record<string, unknown>;
  const added: Record<string, Stream> = {};
  for (const twin of LIST_TWINS) {
    const list = methods[twin.list] as Unary | undefined;
    if (!list || methods[twin.stream]) continue;
    added[twin.stream] = async (req, sink, ctx) => {
      const response = await list(req, ctx);
      for (const page of pages(response[twin.from] ?? [])) {
        ctx.signal.throwIfAborted();
        await sink.write({ [twin.to]: page });
      }
    };
  }
  return { ...impl, ...added };
}
