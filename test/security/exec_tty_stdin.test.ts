// Attack: a user who may exec into a pod runs `exec -it` of a shell that puts its terminal in raw
// mode and never reads it (`stty raw -echo; sleep 3600`), then pastes about a megabyte into it. The
// daemon wrote exec terminal input through a blocking descriptor on the pty master: once the pty's
// buffers filled, write(2) blocked the daemon's whole event loop, so no CRI call was answered on
// the node until the daemon was killed. The daemon must go on answering at once, and the session
// must end when its process is killed.
import fs from 'node:fs';
import WebSocket from 'ws';
import { criClient, type TestCriClient } from '../support/cri_client';
import { startDaemon } from '../support/daemon';
import { startStreamingNode, type Ids, type StreamingNode } from '../integration/streaming/node';

jest.setTimeout(180_000);

/** In the exec'd shell's command line, to find its session should the daemon be stuck. */
const MARKER = 'nodelet-exec-tty-stdin-attack';

let node: StreamingNode;
let cri: TestCriClient;
let ids: Ids;

beforeAll(async () => {
  node = await startStreamingNode();
  cri = criClient(node.daemon.endpoint);
  ids = node.runContainer('exectty', { command: ['sleep', '3600'] });
});

afterAll(async () => {
  killSessionOf(MARKER);
  if (node && !(await answers())) await replaceStuckDaemon();
  cri?.close();
  await node?.stop();
});

async function answers(): Promise<boolean> {
  try {
    await within(5_000, 'Version', cri.runtime('Version', {}, 5_000));
    return true;
  } catch {
    return false;
  }
}

/**
 * A daemon stuck in write(2) stays stuck even once the exec'd processes are gone: it is killed, and
 * a daemon started on the same root removes the pods, so that the node stops clean.
 */
async function replaceStuckDaemon(): Promise<void> {
  node.daemon.proc.kill('SIGKILL');
  await node.daemon.stop();
  const next = await startDaemon({ root: node.root, timeoutMs: 30_000 });
  try {
    const pods = node.crictl(['pods', '-q']).out.trim().split('\n').filter(Boolean);
    for (const pod of pods) {
      node.crictl(['stopp', pod]);
      node.crictl(['rmp', '-f', pod]);
    }
  } finally {
    await next.stop();
  }
}

/** Settles as `promise` does, or fails naming `what` once `ms` passed. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** SIGKILLs every process in the session of the process whose command line holds `marker`. */
function killSessionOf(marker: string): number {
  const stats = fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const sid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
        return { pid: Number(pid), sid, cmdline };
      } catch {
        return undefined;
      }
    })
    .filter((p) => p !== undefined);
  const leaders = stats.filter((p) => p.cmdline.includes(marker)).map((p) => p.sid);
  const victims = stats.filter((p) => leaders.includes(p.sid));
  for (const { pid } of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return victims.length;
}

describe('exec -it into a raw terminal that never reads, sent a paste', () => {
  it('does not stop the daemon answering CRI calls, and the session ends with its process', async () => {
    const { url } = await cri.runtime<{ url: string }>('Exec', {
      container_id: ids.containerId,
      // `; exit 0`: the shell stays (with MARKER in its command line) rather than exec sleep.
      cmd: ['sh', '-c', 'stty raw -echo && echo raw-mode && sleep 3600; exit 0', MARKER],
      tty: true,
      stdin: true,
      stdout: true,
    });
    const ws = new WebSocket(url.replace(/^http/, 'ws'), ['v5.channel.k8s.io']);
    let output = '';
    let status = '';
    ws.on('message', (data: Buffer) => {
      if (data[0] === 1) output += data.subarray(1).toString();
      if (data[0] === 3) status += data.subarray(1).toString();
    });
    const closed = new Promise((resolve) => ws.once('close', resolve));
    await within(
      30_000,
      'the websocket to open',
      new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      }),
    );
    try {
      await within(
        30_000,
        'the terminal in raw mode',
        (async () => {
          while (!output.includes('raw-mode')) await new Promise((r) => setTimeout(r, 50));
        })(),
      );

      // A paste of 1 MiB, without waiting for the socket to drain, as a hostile client sends it.
      const chunk = Buffer.concat([Buffer.from([0]), Buffer.alloc(64 * 1024, 'x')]);
      for (let i = 0; i < 16; i++) ws.send(chunk);
      await within(
        30_000,
        'the paste to leave the client',
        (async () => {
          while (ws.bufferedAmount > 0) await new Promise((r) => setTimeout(r, 20));
        })(),
      );
      // Time for the daemon to take the paste in and write what the terminal takes.
      await new Promise((r) => setTimeout(r, 1_000));

      // Meanwhile, the daemon answers, within seconds, again and again.
      for (let i = 0; i < 3; i++) {
        const version = await within(
          5_000,
          'Version',
          cri.runtime<{ runtime_name: string }>('Version', {}, 5_000),
        );
        expect(version.runtime_name).toBe('nodelet');
        const list = await within(
          5_000,
          'ListContainers',
          cri.runtime<{ containers: { id: string }[] }>('ListContainers', {}, 5_000),
        );
        expect(list.containers.map((c) => c.id)).toContain(ids.containerId);
        await new Promise((r) => setTimeout(r, 500));
      }

      // The exec'd processes killed, what is still queued for their terminal is dropped, and the
      // client hears the session's end.
      expect(killSessionOf(MARKER)).toBeGreaterThan(0);
      await within(15_000, 'the exec session to end', closed);
      expect(JSON.parse(status)).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode' });
    } finally {
      ws.terminate();
    }
  });
});
