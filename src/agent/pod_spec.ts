// The Pod fields the agent understands, validated with zod. A field that would change how a pod
// runs but is not implemented makes the pod fail with a clear message instead of being ignored;
// fields that only matter to other components (scheduler, API server) are accepted and ignored.
import { isIP } from 'node:net';
import { z } from 'zod';
import { MAX_DNS_NAMESERVERS, MAX_DNS_SEARCH_LIST_CHARS, MAX_DNS_SEARCH_PATHS } from './pod_dns';

const quantity = z.union([z.string(), z.number()]);
const resourceList = z.record(quantity);
/** Accepted because they do not change how the node runs the pod (scheduling, API-only). */
export const ACCEPTED_BY_OTHERS = 'accepted: read by other components, not by the node';
const ignored = z.unknown().optional().describe(ACCEPTED_BY_OTHERS);

const fieldRef = z.object({ fieldPath: z.string(), apiVersion: z.string().optional() }).strict();
const resourceFieldRef = z
  .object({ resource: z.string(), containerName: z.string().optional(), divisor: quantity.optional() })
  .strict();

const envVar = z
  .object({
    name: z.string().min(1),
    value: z.string().optional(),
    valueFrom: z
      .object({
        fieldRef: fieldRef.optional(),
        resourceFieldRef: resourceFieldRef.optional(),
        configMapKeyRef: z
          .object({ name: z.string(), key: z.string(), optional: z.boolean().optional() })
          .optional(),
        secretKeyRef: z
          .object({ name: z.string(), key: z.string(), optional: z.boolean().optional() })
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const envFrom = z
  .object({
    prefix: z.string().optional(),
    configMapRef: z.unknown().optional(),
    secretRef: z.unknown().optional(),
  })
  .strict();

// Names the node builds host paths from (<root-dir>/pods/<uid>/volumes/<plugin>/<volume>,
// <pod-logs-dir>/<namespace>_<name>_<uid>): a static manifest skips the API server's validation,
// so the agent applies it, or `..` in them would reach host directories outside its roots.
const dnsLabel = z
  .string()
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  );
// A search domain may end in '.', may be '.' itself, and may hold '_' (the API's relaxed DNS search
// validation, on by default since 1.32).
const DNS_SEARCH = /^[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*\.?$/;
const ipAddress = z.string().refine((ip) => isIP(ip) !== 0, 'must be a valid IP address');
const hostSubdomain = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  );

const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const;
const dnsPolicy = z.enum(DNS_POLICIES, {
  errorMap: (_issue, ctx) => ({
    message: `Unsupported value: ${JSON.stringify(ctx.data)}: supported values: ${DNS_POLICIES.map((p) => `"${p}"`).join(', ')}`,
  }),
});
const dnsConfig = z
  .object({
    nameservers: z
      .array(ipAddress)
      .max(MAX_DNS_NAMESERVERS, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`)
      .optional(),
    searches: z
      .array(
        z
          .string()
          .refine(
            (s) => s === '.' || (s.length <= 254 && DNS_SEARCH.test(s)),
            'must be a DNS subdomain (or ".")',
          ),
      )
      .max(MAX_DNS_SEARCH_PATHS, `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`)
      .refine(
        (s) => s.join(' ').length <= MAX_DNS_SEARCH_LIST_CHARS,
        `must not have more than ${MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list`,
      )
      .optional(),
    options: z
      .array(
        z
          .object({
            name: z
              .string({ required_error: 'Option.Name must not be empty' })
              .min(1, 'Option.Name must not be empty'),
            value: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();
const hostAlias = z.object({ ip: ipAddress, hostnames: z.array(hostSubdomain).optional() }).strict();

const podUid = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*$/, "must be one path segment of letters, digits, '-', '_' and '.'");

const port = z.union([z.number().int(), z.string()]);
const httpGet = z
  .object({
    path: z.string().optional(),
    port,
    host: z.string().optional(),
    scheme: z.enum(['HTTP', 'HTTPS']).optional(),
    httpHeaders: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  })
  .strict();
const handler = {
  exec: z
    .object({ command: z.array(z.string()).min(1) })
    .strict()
    .optional(),
  httpGet: httpGet.optional(),
  tcpSocket: z.object({ port, host: z.string().optional() }).strict().optional(),
};
const probe = z
  .object({
    ...handler,
    grpc: z.object({ port: z.number().int(), service: z.string().optional() }).strict().optional(),
    initialDelaySeconds: z.number().int().min(0).optional(),
    timeoutSeconds: z.number().int().min(1).optional(),
    periodSeconds: z.number().int().min(1).optional(),
    successThreshold: z.number().int().min(1).optional(),
    failureThreshold: z.number().int().min(1).optional(),
    terminationGracePeriodSeconds: z.number().int().min(0).optional(),
  })
  .strict();
const lifecycleHandler = z
  .object({
    ...handler,
    sleep: z
      .object({ seconds: z.number().int().min(0) })
      .strict()
      .optional(),
  })
  .strict();

const capabilities = z
  .object({ add: z.array(z.string()).optional(), drop: z.array(z.string()).optional() })
  .strict();
// Passed to the runtime as the CRI's selinux_options; a node without SELinux (as this one) ignores
// them, as the kubelet with containerd or CRI-O does there.
const seLinuxOptions = z
  .object({
    user: z.string().optional(),
    role: z.string().optional(),
    type: z.string().optional(),
    level: z.string().optional(),
  })
  .strict();
const containerSecurityContext = z
  .object({
    privileged: z.boolean().optional(),
    seLinuxOptions: seLinuxOptions.optional(),
    runAsUser: z.number().int().optional(),
    runAsGroup: z.number().int().optional(),
    runAsNonRoot: z.boolean().optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
    allowPrivilegeEscalation: z.boolean().optional(),
    capabilities: capabilities.optional(),
    procMount: z.enum(['Default', 'Unmasked']).optional(),
    seccompProfile: z
      .object({
        type: z.enum(['RuntimeDefault', 'Unconfined', 'Localhost']),
        // Relative to the node's <root-dir>/seccomp, never leaving it (the API server's validation).
        localhostProfile: z
          .string()
          .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
            message: "must be a relative path without '..'",
          })
          .optional(),
      })
      .strict()
      .refine((p) => p.type !== 'Localhost' || !!p.localhostProfile, {
        message: 'localhostProfile is required when type is Localhost',
        path: ['localhostProfile'],
      })
      .optional(),
  })
  .strict();

const container = z
  .object({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label'),
    image: z.string().min(1),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).optional(),
    workingDir: z.string().optional(),
    env: z.array(envVar).optional(),
    envFrom: z.array(envFrom).optional(),
    ports: z
      .array(
        z
          .object({
            name: z.string().optional(),
            containerPort: z.number().int().min(1).max(65535),
            hostPort: z.number().int().min(0).max(65535).optional(),
            hostIP: z.string().optional(),
            protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
          })
          .strict(),
      )
      .optional(),
    resources: z
      .object({
        requests: resourceList.optional(),
        limits: resourceList.optional(),
        claims: z.array(z.unknown()).max(0).optional(),
      })
      .strict()
      .optional(),
    // In-place resize (pod_resize.ts): how a change of cpu or memory is applied to a running container.
    resizePolicy: z
      .array(
        z
          .object({
            resourceName: z.enum(['cpu', 'memory']),
            restartPolicy: z.enum(['NotRequired', 'RestartContainer']),
          })
          .strict(),
      )
      .optional(),
    volumeMounts: z
      .array(
        z
          .object({
            name: z.string(),
            mountPath: z.string().startsWith('/'),
            readOnly: z.boolean().optional(),
            subPath: z.string().optional(),
            subPathExpr: z.string().optional(),
            mountPropagation: z.enum(['None', 'HostToContainer', 'Bidirectional']).optional(),
          })
          .strict()
          .refine((m) => !(m.subPath && m.subPathExpr), {
            message: 'subPathExpr and subPath are mutually exclusive',
            path: ['subPathExpr'],
          }),
      )
      .optional(),
    livenessProbe: probe.optional(),
    readinessProbe: probe.optional(),
    startupProbe: probe.optional(),
    lifecycle: z
      .object({ postStart: lifecycleHandler.optional(), preStop: lifecycleHandler.optional() })
      .strict()
      .optional(),
    securityContext: containerSecurityContext.optional(),
    stdin: z.boolean().optional(),
    stdinOnce: z.boolean().optional(),
    tty: z.boolean().optional(),
    terminationMessagePath: z.string().startsWith('/').optional(),
    terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional(),
  })
  .strict();
// An init container may be a sidecar (restartPolicy Always): it keeps running beside the app containers.
const initContainer = container.extend({ restartPolicy: z.literal('Always').optional() });
// `kubectl debug` adds these (ephemeral.ts); the API server refuses ports, probes and the like on them.
const ephemeralContainer = container
  .omit({ resizePolicy: true })
  .extend({ targetContainerName: z.string().optional() });

const volume = z
  .object({
    name: dnsLabel,
    emptyDir: z
      .object({ medium: z.enum(['', 'Memory']).optional(), sizeLimit: quantity.optional() })
      .strict()
      .optional(),
    hostPath: z
      .object({
        path: z.string().startsWith('/'),
        type: z
          .enum([
            '',
            'DirectoryOrCreate',
            'Directory',
            'FileOrCreate',
            'File',
            'Socket',
            'CharDevice',
            'BlockDevice',
          ])
          .optional(),
      })
      .strict()
      .optional(),
    downwardAPI: z
      .object({
        defaultMode: z.number().int().optional(),
        items: z
          .array(
            z
              .object({
                path: z.string().min(1),
                fieldRef: fieldRef.optional(),
                resourceFieldRef: resourceFieldRef.optional(),
                mode: z.number().int().optional(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .optional(),
    // An OCI image's file system, read-only (ImageVolume, on by default since 1.35): pulled as the
    // containers' images are and handed to the runtime as a CRI image mount.
    image: z
      .object({
        reference: z.string().min(1),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
      })
      .strict()
      .optional(),
    configMap: z.unknown().optional(),
    secret: z.unknown().optional(),
    projected: z.unknown().optional(),
    persistentVolumeClaim: z.unknown().optional(),
  })
  .strict();

const podSecurityContext = z
  .object({
    runAsUser: z.number().int().optional(),
    runAsGroup: z.number().int().optional(),
    runAsNonRoot: z.boolean().optional(),
    fsGroup: z.number().int().optional(),
    // Honoured by fs_group.ts as the kubelet does: no effect on the volume types the agent supports.
    fsGroupChangePolicy: z.enum(['Always', 'OnRootMismatch']).optional(),
    supplementalGroups: z.array(z.number().int()).optional(),
    sysctls: z.array(z.object({ name: z.string(), value: z.string() }).strict()).optional(),
    seccompProfile: containerSecurityContext.shape.seccompProfile,
    seLinuxOptions: seLinuxOptions.optional(),
  })
  .strict();

export const podSchema = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('Pod'),
    metadata: z
      .object({
        name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain'),
        namespace: dnsLabel.optional(),
        uid: podUid.optional(),
        labels: z.record(z.string()).optional(),
        annotations: z.record(z.string()).optional(),
      })
      .passthrough(),
    spec: z
      .object({
        containers: z.array(container).min(1),
        initContainers: z.array(initContainer).optional(),
        ephemeralContainers: z.array(ephemeralContainer).optional(),
        volumes: z.array(volume).optional(),
        restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).optional(),
        terminationGracePeriodSeconds: z.number().int().min(0).optional(),
        activeDeadlineSeconds: z.number().int().min(1).optional(),
        readinessGates: z.array(z.object({ conditionType: z.string().min(1) }).strict()).optional(),
        hostNetwork: z.boolean().optional(),
        hostPID: z.boolean().optional(),
        hostIPC: z.boolean().optional(),
        shareProcessNamespace: z.boolean().optional(),
        // false: the pod gets a user namespace with a host id range of its own (userns_allocator.ts).
        hostUsers: z.boolean().optional(),
        hostname: dnsLabel.optional(),
        subdomain: dnsLabel.optional(),
        setHostnameAsFQDN: z.boolean().optional(),
        dnsPolicy: dnsPolicy.optional(),
        dnsConfig: dnsConfig.optional(),
        hostAliases: z.array(hostAlias).optional(),
        enableServiceLinks: z.boolean().optional(),
        securityContext: podSecurityContext.optional(),
        // Admitted by pod_os.ts: linux runs, windows is rejected as by the kubelet.
        // Its RuntimeClass's handler goes to RunPodSandbox (runtime_class.ts).
        runtimeClassName: z.string().min(1).optional(),
        os: z
          .object({ name: z.enum(['linux', 'windows']) })
          .strict()
          .optional(),
        imagePullSecrets: z.array(z.object({ name: z.string() })).optional(),
        nodeName: ignored,
        nodeSelector: ignored,
        affinity: ignored,
        tolerations: ignored,
        schedulerName: ignored,
        priority: ignored,
        priorityClassName: ignored,
        serviceAccountName: ignored,
        serviceAccount: ignored,
        automountServiceAccountToken: ignored,
        preemptionPolicy: ignored,
      })
      .strict()
      .superRefine((spec, ctx) => {
        // The API's validateHostUsers: a user namespace is not mixed with the host's other namespaces.
        if (spec.hostUsers === false) {
          for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
            if (spec[field])
              ctx.addIssue({
                code: 'custom',
                path: [field],
                message:
                  'Forbidden: when `hostUsers` is false, hostNetwork, hostPID and hostIPC must be false',
              });
          }
        }
      })
      .superRefine((spec, ctx) => {
        // The API's validatePodDNSConfig: with dnsPolicy None, dnsConfig is all there is.
        if (spec.dnsPolicy !== 'None') return;
        if (!spec.dnsConfig)
          ctx.addIssue({
            code: 'custom',
            path: ['dnsConfig'],
            message: 'Required value: must provide `dnsConfig` when `dnsPolicy` is None',
          });
        else if (!spec.dnsConfig.nameservers?.length)
          ctx.addIssue({
            code: 'custom',
            path: ['dnsConfig', 'nameservers'],
            message: 'Required value: must provide at least one DNS nameserver when `dnsPolicy` is None',
          });
      }),
    status: ignored,
  })
  .strict();

export type Pod = z.infer<typeof podSchema>;
export type PodSpec = Pod['spec'];
/** A container of either list (only init containers may set restartPolicy). */
export type Container = z.infer<typeof initContainer>;
export type Volume = z.infer<typeof volume>;
export type Probe = z.infer<typeof probe>;
export type LifecycleHandler = z.infer<typeof lifecycleHandler>;
export type EnvVar = z.infer<typeof envVar>;
