// The one schema of nodelet's daemon configuration. Defaults, validation and the reference page
// (docs/configuration.md, written by `nodelet config reference`) all come from here, so a key is
// added in one place. Keys are camelCase, as in the kubelet's own configuration files.
import { z } from 'zod';
import { LOG_LEVELS } from '../common/log';

/** A flag of the daemon's command line that overrides a key of the file. */
export interface FlagSpec {
  key: keyof DaemonConfigInput;
  flag: string;
}

const GiB = 1 << 30;

const registrySchema = z
  .object({
    mirrors: z
      .record(z.string(), z.array(z.string().min(1)))
      .default({})
      .describe(
        'Mirrors per upstream registry host, tried in order before the upstream itself, e.g. ' +
          '`{"registry.k8s.io": ["http://127.0.0.1:5000"]}`. An entry is `host[:port]` or `scheme://host[:port]`; ' +
          'the repository path stays the same on the mirror.',
      ),
    insecureRegistries: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Hosts (`host` or `host:port`) that may be reached over plain HTTP (HTTPS is tried first). ' +
          'Registries on loopback (127.0.0.0/8, ::1, localhost) always may, as with Docker. The token service ' +
          "a registry names (its Bearer realm) obeys the same rule before it gets the registry's credentials: " +
          'HTTPS on any host, plain HTTP only to these hosts and loopback, no redirects.',
      ),
    maxConcurrentDownloads: z
      .number()
      .int()
      .min(1)
      .max(32)
      .default(3)
      .describe('Layers of one pull downloaded and unpacked at the same time.'),
    requestTimeoutSeconds: z
      .number()
      .positive()
      .default(30)
      .describe(
        'How long to wait for the headers of a registry answer (and a whole manifest) before failing.',
      ),
    pullProgressTimeoutSeconds: z
      .number()
      .positive()
      .default(60)
      .describe(
        "How long a layer download may go without receiving a byte before it fails (the kubelet's " +
          "`--image-pull-progress-deadline`, containerd's `image_pull_progress_timeout`). What was received " +
          'is kept: the next attempt asks the registry for the rest with an HTTP Range request.',
      ),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe('Extra attempts, with backoff, after a network error or an HTTP 5xx/429 answer.'),
    maxLayerExpansionRatio: z
      .number()
      .positive()
      .default(100)
      .describe(
        'A layer may expand to at most this many times the compressed bytes received so far (or ' +
          'layerExpansionFloorBytes, whichever is larger) when unpacked; more is refused as a decompression ' +
          'bomb. The bytes that came count, not the size the manifest announces.',
      ),
    layerExpansionFloorBytes: z
      .number()
      .int()
      .positive()
      .default(1 << 30)
      .describe('Uncompressed bytes every layer may have, whatever its compression ratio.'),
    maxLayerBytes: z
      .number()
      .int()
      .positive()
      .default(16 * GiB)
      .describe(
        'Largest layer, compressed, that a pull accepts: a manifest that announces more is refused before ' +
          'the download starts, and no blob may run past the size its manifest announces.',
      ),
    maxUncompressedLayerBytes: z
      .number()
      .int()
      .positive()
      .default(32 * GiB)
      .describe(
        'Largest layer once uncompressed: the unpack stops there, whatever maxLayerExpansionRatio allows. ' +
          'Manifests, indexes and configs are capped at 4 MiB as in containerd, and a zstd frame may ask ' +
          "for a window of at most 128 MiB (zstd's own default, `--long=27`).",
      ),
    freeSpaceReserveBytes: z
      .number()
      .int()
      .min(0)
      .default(GiB)
      .describe(
        'Free space that pulls leave on the filesystem of stateDir: a pull whose layers, as announced, ' +
          'would leave less is refused, and an unpack stops when it reaches the reserve; 0 turns the check off.',
      ),
    nativeDecompress: z
      .enum(['auto', 'off'])
      .default('off')
      .describe(
        '`auto`: decompress gzip layers with `unpigz` (or `pigz -d`) and zstd layers with `zstd -d` when they are ' +
          "on the daemon's PATH, in a child process, as containerd does with unpigz; `off`: always in the daemon " +
          '(zlib, fzstd). Digests, size limits, the zstd window limit and the tar checks are the same either way. ' +
          "`off` by default: measured on 2 cores, unpigz was no faster than zlib, which already inflates off the main thread, and cost a child's CPU on top.",
      ),
  })
  .strict();

/** The section's keys, listed in its own description: the reference table has one row per section. */
function describeKeys(section: z.AnyZodObject): string {
  return Object.entries(section.shape as Record<string, z.ZodTypeAny>)
    .map(([key, field]) => {
      const value = field instanceof z.ZodDefault ? JSON.stringify(field._def.defaultValue()) : undefined;
      return `\`${key}\`${value === undefined ? '' : ` (default \`${value}\`)`}: ${field.description ?? ''}`;
    })
    .join(' · ');
}

const registrySection = registrySchema
  .optional()
  .describe(
    'Image pulls: registry mirrors, plain-HTTP hosts, download concurrency, timeouts, size limits and the disk reserve. ' +
      `Keys: ${describeKeys(registrySchema)}`,
  );

export const daemonConfigSchema = z
  .object({
    socket: z
      .string()
      .min(1)
      .optional()
      .describe('Path of the CRI unix socket. Default: `<runDir>/nodelet.sock`.'),
    stateDir: z
      .string()
      .min(1)
      .default('/var/lib/nodelet')
      .describe('Where images, snapshots and container records live; survives reboots.'),
    runDir: z
      .string()
      .min(1)
      .default('/run/nodelet')
      .describe('Runtime state lost at reboot: the socket, pinned namespaces, FIFOs, the monitor socket.'),
    logLevel: z.enum(LOG_LEVELS).default('info').describe('Log level of the structured logs on stderr.'),
    initPoolSize: z
      .number()
      .int()
      .min(0)
      .max(16)
      .default(2)
      .describe(
        'Container inits the monitor keeps started ahead of need (Node booted, PID 1 of a fresh PID ' +
          'namespace), so that CreateContainer does not wait for Node to start; 0 turns the pool off. ' +
          'Read when the monitor starts: a running monitor keeps its pool.',
      ),
    criuPath: z
      .string()
      .min(1)
      .default('criu')
      .describe(
        'The CRIU binary that CheckpointContainer and the restore of a checkpoint archive run (a path, or a ' +
          "name looked up on PATH). CRIU before 4.1 cannot run on kernels that split the vDSO's vvar " +
          'mapping (6.13 and later): point this at a newer build there.',
      ),
    cgroupParent: z
      .string()
      .regex(/^\/[^\s]*$/, 'must be an absolute cgroup path')
      .default('/nodelet')
      .describe(
        'Cgroup under which pods get their own cgroup when the kubelet passes no `cgroup_parent` ' +
          '(with one, containers go under the parent the kubelet made).',
      ),
    metricsAddress: z
      .string()
      .default('127.0.0.1:10375')
      .describe(
        'host:port of the Prometheus `/metrics` and `/healthz` endpoint; empty turns it off. ' +
          'Bind beyond loopback only on purpose.',
      ),
    streamingAddress: z
      .string()
      .min(1)
      .default('127.0.0.1:0')
      .describe(
        'host:port of the streaming server that Exec, Attach and PortForward URLs point to (SPDY/3.1 and ' +
          'WebSocket); port 0 takes a free one. Its URLs carry single-use tokens but no authentication: ' +
          'keep it on loopback unless streamingTls is set and the network is trusted.',
      ),
    streamingTls: z
      .object({
        certFile: z.string().min(1).describe('PEM certificate of the streaming server.'),
        keyFile: z.string().min(1).describe('PEM private key of the streaming server.'),
      })
      .strict()
      .optional()
      .describe('Serve the streaming server over TLS (`https://` URLs) with `certFile` and `keyFile` (PEM).'),
    cniConfDir: z
      .string()
      .min(1)
      .default('/etc/cni/net.d')
      .describe(
        "The administrator's CNI network configs (`*.conflist`, `*.conf`, `*.json`; the first by name wins). " +
          'nodelet only reads it: while it holds none, nodelet uses its own default conflist in `<cniCacheDir>/net.d`.',
      ),
    cniBinDirs: z
      .array(z.string().min(1))
      .min(1)
      .default(['/usr/lib/cni', '/opt/cni/bin'])
      .describe(
        'Directories searched, in order, for CNI plugin binaries (Debian installs them in /usr/lib/cni).',
      ),
    cniCacheDir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "nodelet's CNI state: the result of each pod network ADD (`results/`, so DEL works after a restart), " +
          "its default conflist (`net.d/`) and that network's IP allocations (`networks/`). Default: `<stateDir>/cni`.",
      ),
    cniTimeoutSeconds: z
      .number()
      .positive()
      .default(120)
      .describe(
        "Time one pod network ADD, DEL or CHECK may take through every plugin of the list (the kubelet's " +
          '`--runtime-request-timeout` is 2 min too); a plugin still running then is killed with what it ' +
          'started, and RunPodSandbox fails with DEADLINE_EXCEEDED after undoing the pod.',
      ),
    cniBridge: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be a Linux interface name (at most 15 characters)')
      .default('nodelet0')
      .describe("The bridge of nodelet's default CNI network."),
    podCidr: z
      .string()
      .min(1)
      .default('10.88.0.0/16')
      .describe(
        'IPv4 range of pod IPs in the default conflist; the kubelet may replace it through UpdateRuntimeConfig. ' +
          'Pick a private range that none of the host routes uses.',
      ),
    cdiSpecDirs: z
      .array(z.string().regex(/^\//, 'must be an absolute path'))
      .default(['/etc/cdi', '/var/run/cdi'])
      .describe(
        'Directories of CDI spec files (`*.json`, `*.yaml`) that resolve the CRI `cdi_devices` and the ' +
          '`cdi.k8s.io/*` annotations of a container; a later directory overrides an earlier one for the same ' +
          'device. Read again for each container that asks for CDI devices; a broken file is logged and skipped.',
      ),
    registry: registrySection,
  })
  .strict();

export type DaemonConfigInput = z.input<typeof daemonConfigSchema>;
export type DaemonConfig = z.output<typeof daemonConfigSchema> & { socket: string };

export const DAEMON_FLAGS: FlagSpec[] = [
  { key: 'socket', flag: '--socket' },
  { key: 'stateDir', flag: '--state-dir' },
  { key: 'runDir', flag: '--run-dir' },
  { key: 'logLevel', flag: '--log-level' },
  { key: 'metricsAddress', flag: '--metrics-address' },
];

export const DEFAULT_CONFIG_FILE = '/etc/nodelet/config.yaml';
