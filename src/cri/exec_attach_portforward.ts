// Exec, Attach and PortForward: each checks its request, stores it on the streaming server and
// answers with the single-use URL. The work happens when the client connects, through the backend
// below: exec from this process (the exec is the daemon's child), attach through the monitor (it
// holds the container's stdio), port-forward by dialling from a socket made in the pod's netns.
import net from 'node:net';
import type { RuntimeServiceHandlers } from '../gen/runtime/v1/RuntimeService';
import { failedPrecondition, invalidArgument } from '../common/errors';
import { runInNamespaces } from '../runtime/namespaces';
import { tcpSocket } from '../runtime/sys';
import type { CriContext } from './context';
import type { ServiceImpl } from './rpc';
import { containerState, type ContainerRecord } from './store';
import { runAttachSession, runExecSession, type StreamingBackend, type StreamingServer } from './streaming';

type Handlers = Pick<ServiceImpl<RuntimeServiceHandlers>, 'Exec' | 'Attach' | 'PortForward'>;

function requireStdio(what: string, req: { stdin: boolean; stdout: boolean; stderr: boolean }): void {
  if (!req.stdin && !req.stdout && !req.stderr) {
    throw invalidArgument(`Cannot ${what}: one of stdin, stdout and stderr must be asked for`);
  }
}

function requireRunning(ctx: CriContext, id: string, action: string): ContainerRecord & { pid: number } {
  const c = ctx.containers.get(id);
  const state = containerState(c);
  if (state !== 'CONTAINER_RUNNING' || c.pid === undefined) {
    throw failedPrecondition(`Cannot ${action} container '${c.id}': it is not running (${state})`);
  }
  return c as ContainerRecord & { pid: number };
}

export function streamingService(ctx: CriContext, server: StreamingServer): Handlers {
  return {
    Exec: async (req) => {
      if (req.cmd.length === 0) throw invalidArgument('Cannot exec: cmd is empty');
      requireStdio('exec', req);
      const c = requireRunning(ctx, req.container_id, 'exec in');
      return {
        url: server.urlFor({
          kind: 'exec',
          containerId: c.id,
          cmd: req.cmd,
          tty: req.tty,
          stdin: req.stdin,
          stdout: req.stdout,
          stderr: req.stderr && !req.tty,
        }),
      };
    },
    Attach: async (req) => {
      requireStdio('attach', req);
      const c = requireRunning(ctx, req.container_id, 'attach to');
      if (req.stdin && !c.stdin) {
        throw failedPrecondition(`Cannot attach stdin to container '${c.id}': it was created without stdin`);
      }
      return {
        url: server.urlFor({
          kind: 'attach',
          containerId: c.id,
          tty: req.tty,
          stdin: req.stdin,
          stdout: req.stdout,
          stderr: req.stderr && !req.tty,
        }),
      };
    },
    PortForward: async (req) => {
      const pod = ctx.sandboxes.get(req.pod_sandbox_id);
      for (const port of req.port) {
        if (port <= 0 || port > 65535)
          throw invalidArgument(`Cannot port-forward to port ${port}: out of range`);
      }
      return { url: server.urlFor({ kind: 'portforward', podSandboxId: pod.id, ports: req.port }) };
    },
  };
}

export function streamingBackend(ctx: CriContext): StreamingBackend {
  return {
    exec: async (req, session) => {
      const c = requireRunning(ctx, req.containerId, 'exec in');
      return runExecSession({ pid: c.pid, spec: c.spec }, req.cmd, session);
    },
    attach: async (req, session) => {
      const c = requireRunning(ctx, req.containerId, 'attach to');
      // The monitor holds the container's stdio and serves attach on its own socket in runDir.
      return runAttachSession({ runDir: ctx.runDir, containerId: c.id }, session);
    },
    portForward: (req) => {
      const pod = ctx.sandboxes.get(req.podSandboxId);
      const netns = pod.namespaces['network'];
      if (!pod.hostNetwork && !netns) {
        throw failedPrecondition(`Cannot port-forward into pod '${pod.id}': it has no network namespace`);
      }
      return (port) => dial(port, pod.hostNetwork ? undefined : netns);
    },
  };
}

/** Connects to 127.0.0.1:port in the given network namespace (the host's without one). */
function dial(port: number, netnsPath: string | undefined): Promise<net.Socket> {
  const socket = netnsPath
    ? new net.Socket({
        fd: runInNamespaces({ join: [{ type: 'network', path: netnsPath }], create: [] }, () => tcpSocket()),
        readable: true,
        writable: true,
      })
    : new net.Socket();
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1');
  });
}
