// The container log manager, as the kubelet's: every containerLogMonitorInterval it looks at each
// running container's live log and rotates the ones that reached containerLogMaxSize, and sweeps
// the links whose container has exited or gone. It also makes a container's link when it starts and
// removes its files and link when it is removed (runtime_hooks.ts). One container's failure is
// logged and never stops the others.
import fs from 'node:fs';
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL } from '../labels';
import type { ContainerLogRuntime } from './cri';
import { danglingLinks, linkContainerLog, unlinkContainerLog } from './links';
import { DEFAULT_LOG_MONITOR_INTERVAL_MS, DEFAULT_LOG_ROTATION, type LogRotationPolicy } from './policy';
import { rotateContainerLog, rotatedFiles } from './rotate';

export interface ContainerLogOptions {
  policy?: LogRotationPolicy;
  monitorIntervalMs?: number;
  /** Where the `<pod>_<ns>_<container>-<id>.log` links go (/var/log/containers); none when absent. */
  linksDir?: string;
  /** For tests: the clock rotated files are named by. */
  now?: () => Date;
}

export interface ContainerLogManager {
  /** One monitor round now (rotation and the link sweep). */
  runOnce(): Promise<void>;
  /** After StartContainer: links the container's log. */
  containerStarted(containerId: string): Promise<void>;
  /** Before RemoveContainer: its log, rotated files and link go (the kubelet's removeContainerLog). */
  containerRemoving(containerId: string): Promise<void>;
  stop(): Promise<void>;
}

export function startContainerLogManager(
  runtime: ContainerLogRuntime,
  log: Logger,
  options: ContainerLogOptions = {},
): ContainerLogManager {
  const policy = options.policy ?? DEFAULT_LOG_ROTATION;
  const now = options.now ?? (() => new Date());
  const { linksDir } = options;
  let running: Promise<void> | undefined;

  async function rotateRunning(): Promise<void> {
    if (policy.maxSizeBytes < 0) return;
    // Only running containers: one that exited writes no more, and keeps its last file whole.
    for (const c of await runtime.listContainers('CONTAINER_RUNNING')) {
      try {
        await rotateIfFull(c.id);
      } catch (err) {
        log.warn({ container: c.id, err: messageOf(err) }, 'cannot rotate container log');
      }
    }
  }

  async function rotateIfFull(id: string): Promise<void> {
    const status = await runtime.containerStatus(id);
    const logPath = status?.log_path;
    if (!status || status.state !== 'CONTAINER_RUNNING' || !logPath) return;
    let size = (await fs.promises.stat(logPath).catch(() => undefined))?.size;
    if (size === undefined) {
      // A round cut short between rename and reopen leaves no live log: reopening brings it back.
      await runtime.reopenContainerLog(id);
      size = (await fs.promises.stat(logPath)).size;
    }
    if (size < policy.maxSizeBytes) return;
    await rotateContainerLog(runtime, { id, log: logPath }, { maxFiles: policy.maxFiles, now: now() });
    log.info({ container: id, log: logPath, bytes: size }, 'rotated container log');
  }

  async function sweepLinks(): Promise<void> {
    if (!linksDir) return;
    for (const { link, containerId } of await danglingLinks(linksDir)) {
      // Between a rotation's rename and reopen a running container's link dangles for a moment.
      const status = containerId ? await runtime.containerStatus(containerId).catch(() => null) : undefined;
      if (status === null || (status && status.state !== 'CONTAINER_EXITED')) continue;
      await fs.promises.rm(link, { force: true });
    }
  }

  function runOnce(): Promise<void> {
    running ??= (async () => {
      try {
        await rotateRunning();
        await sweepLinks();
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const timer = setInterval(() => {
    runOnce().catch((err) => log.warn({ err: messageOf(err) }, 'container log round failed'));
  }, options.monitorIntervalMs ?? DEFAULT_LOG_MONITOR_INTERVAL_MS);
  timer.unref();

  return {
    runOnce,
    async containerStarted(containerId) {
      if (!linksDir) return;
      const status = await runtime.containerStatus(containerId);
      // No file (a runtime that logs elsewhere): a link would only dangle, as the kubelet says.
      if (!status?.log_path || !fs.existsSync(status.log_path)) return;
      await linkContainerLog(
        linksDir,
        {
          podName: status.labels[POD_NAME_LABEL] ?? '',
          namespace: status.labels[POD_NAMESPACE_LABEL] ?? '',
          containerName: status.labels[CONTAINER_NAME_LABEL] ?? status.metadata?.name ?? '',
          containerId,
        },
        status.log_path,
      );
    },
    async containerRemoving(containerId) {
      const status = await runtime.containerStatus(containerId);
      const logPath = status?.log_path;
      if (logPath) {
        for (const f of [logPath, ...(await rotatedFiles(logPath))]) await fs.promises.rm(f, { force: true });
      }
      if (linksDir) await unlinkContainerLog(linksDir, containerId);
    },
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
