// The Services of the cluster, listed and watched for the containers' Service variables (the
// kubelet's service lister). Headless Services are left out by the server (fieldSelector
// spec.clusterIP!=None, as the kubelet asks since 1.30): they give no variables.
import { z } from 'zod';
import type { Logger } from '../../common/log';
import { messageOf } from '../../common/errors';
import type { ServiceEnvSource, ServiceInfo } from '../service_env';
import type { KubeApi, KubeObject } from './kube_api';
import { listWatch, ListWatchOptions } from './list_watch';

const serviceSpecSchema = z.object({
  clusterIP: z.string().optional(),
  ports: z
    .array(z.object({ name: z.string().optional(), port: z.number().int(), protocol: z.string().optional() }))
    .nullish(),
});

function serviceInfo(object: KubeObject): ServiceInfo | undefined {
  const spec = serviceSpecSchema.safeParse(object.spec ?? {});
  if (!spec.success) return undefined;
  return {
    namespace: object.metadata.namespace ?? 'default',
    name: object.metadata.name,
    clusterIP: spec.data.clusterIP ?? '',
    ports: spec.data.ports ?? [],
  };
}

export interface ServiceInformer extends ServiceEnvSource {
  close(): void;
}

export function watchServices(api: KubeApi, log: Logger, options: ListWatchOptions = {}): ServiceInformer {
  const services = new Map<string, ServiceInfo>();
  const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  const put = (o: KubeObject) => {
    const info = serviceInfo(o);
    if (info) services.set(key(o), info);
    else log.warn({ service: key(o) }, 'cannot read service: its spec does not fit; left out');
  };
  let synced = false;
  const watch = listWatch(
    api,
    '/api/v1/services',
    {
      onList(items) {
        services.clear();
        items.forEach(put);
      },
      onEvent(type, object) {
        if (type === 'DELETED') services.delete(key(object));
        else put(object);
      },
      onError(err, retryMs) {
        log.warn({ err: messageOf(err), retryMs }, 'cannot list or watch services; trying again');
      },
    },
    { ...options, query: { ...options.query, fieldSelector: 'spec.clusterIP!=None' } },
  );
  watch.synced.then(() => (synced = true)).catch(() => undefined);
  return {
    synced: () => synced,
    async waitSynced(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        watch.synced,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
      // The flag is set by a callback of the same promise: let it run.
      await Promise.resolve();
    },
    list: () => [...services.values()],
    close: () => watch.close(),
  };
}
