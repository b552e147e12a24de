import pino from 'pino';
import type { CallContext, StreamSink } from './rpc';
import { pages, withListStreams } from './list_streams';

const call = { signal: new AbortController().signal, log: pino({ level: 'silent' }) } as CallContext;

function recordingSink() {
  const sent: Record<string, unknown[]>[] = [];
  const sink: StreamSink<unknown> = { write: async (m) => void sent.push(m as Record<string, unknown[]>) };
  return { sent, sink };
}

describe('the Stream* twins of the List* RPCs', () => {
  test('pages hold at most the given number of items, in order', () => {
    expect(pages([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(pages([], 2)).toEqual([]);
  });

  test('pages stay under the byte bound, and an item larger than it travels alone', () => {
    const big = 'x'.repeat(100);
    expect(pages(['a', big, 'b', 'c'], 10, 20)).toEqual([['a'], [big], ['b', 'c']]);
  });

  test('a stream sends the list its twin answers for the same filter, renamed to its own field', async () => {
    const seen: unknown[] = [];
    const impl = withListStreams({
      ListPodSandbox: async (req: unknown) => {
        seen.push(req);
        return { items: [{ id: 'a' }, { id: 'b' }] };
      },
    }) as Record<string, unknown>;
    const { sent, sink } = recordingSink();
    const stream = impl.StreamPodSandboxes as (
      r: unknown,
      s: StreamSink<unknown>,
      c: CallContext,
    ) => Promise<void>;
    await stream({ filter: { id: 'a' } }, sink, call);
    expect(seen).toEqual([{ filter: { id: 'a' } }]);
    expect(sent).toEqual([{ pod_sandboxes: [{ id: 'a' }, { id: 'b' }] }]);
  });

  test('an empty list sends no message, and a stream already implemented is kept', async () => {
    const own = async () => undefined;
    const impl = withListStreams({
      ListContainers: async () => ({ containers: [] }),
      ListImages: async () => ({ images: [] }),
      StreamImages: own,
    }) as Record<string, unknown>;
    const { sent, sink } = recordingSink();
    const stream = impl.StreamContainers as (
      r: unknown,
      s: StreamSink<unknown>,
      c: CallContext,
    ) => Promise<void>;
    await stream({}, sink, call);
    expect(sent).toEqual([]);
    expect(impl.StreamImages).toBe(own);
    expect(impl.StreamPodSandboxes).toBeUndefined();
  });
});
