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
    metricsAddress: z
      .string()
      .default('127.0.0.1:10375')
      .describe(
        'host:port of the Prometheus `/metrics` and `/healthz` endpoint; empty turns it off. ' +
          'Bind beyond loopback only on purpose.',
      ),
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
