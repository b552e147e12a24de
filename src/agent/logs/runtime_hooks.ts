// Every container the agent starts or removes goes through CriRuntime.startContainer,
// removeContainer or removePodSandbox (pod workers, garbage collection, pod and orphan removal):
// wrapping those keeps the log links and files in step with the containers, as the kubelet's startContainer and
// removeContainer do, without each caller having to remember.
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import type { CriRuntime } from '../cri_client';
import type { ContainerLogManager } from './manager';

export function withContainerLogs(cri: CriRuntime, logs: ContainerLogManager, log: Logger): CriRuntime {
  return new Proxy(cri, {
    get(target, prop, receiver) {
      if (prop === 'startContainer')
        return async (id: string) => {
          await target.startContainer(id);
          // A missing link is logged, never a failed start (the kubelet's).
          await logs
            .containerStarted(id)
            .catch((err) => log.warn({ container: id, err: messageOf(err) }, 'cannot link container log'));
        };
      if (prop === 'removeContainer')
        return async (id: string) => {
          // The kubelet removes the logs first: a failure leaves the container for the next GC round.
          await logs.containerRemoving(id);
          await target.removeContainer(id);
        };
      if (prop === 'removePodSandbox')
        return async (id: string) => {
          // The runtime removes the sandbox's containers with it: their logs and links go first.
          const { containers } = await target.listContainers({ filter: { pod_sandbox_id: id } });
          for (const c of containers)
            await logs
              .containerRemoving(c.id)
              .catch((err) =>
                log.warn({ container: c.id, err: messageOf(err) }, 'cannot remove container log'),
              );
          await target.removePodSandbox(id);
        };
      return Reflect.get(target, prop, receiver);
    },
  });
}
