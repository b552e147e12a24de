// `nodelet daemon`: load the configuration, serve until SIGTERM or SIGINT, then stop cleanly.
import { DAEMON_FLAGS, DaemonConfigInput, loadDaemonConfig } from '../config';
import { createLogger, LogLevel } from '../common/log';
import { exitOnUnhandledRejection } from '../common/background';
import { startDaemon } from '../daemon';
import { DAEMON_HELP } from './help';
import { catchStopSignals } from './stop_signal';
import { parseFlags } from './usage';

export async function runDaemonCommand(args: string[]): Promise<number> {
  const flagOptions = Object.fromEntries(
    DAEMON_FLAGS.map((f) => [f.flag.slice(2), { type: 'string' as const }]),
  );
  const { values } = parseFlags(args, {
    ...flagOptions,
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(DAEMON_HELP);
    return 0;
  }
  const overrides: Partial<Record<keyof DaemonConfigInput, string>> = {};
  for (const { key, flag } of DAEMON_FLAGS) {
    const value = (values as Record<string, unknown>)[flag.slice(2)];
    if (typeof value === 'string') overrides[key] = value;
  }
  const config = loadDaemonConfig({
    file: typeof values.config === 'string' ? values.config : undefined,
    overrides: overrides as Partial<DaemonConfigInput>,
  });
  const log = createLogger(config.logLevel as LogLevel, { role: 'daemon' });
  exitOnUnhandledRejection(log);
  const stop = catchStopSignals(log, 'shutting down');
  const daemon = await startDaemon(config, log).catch((err: unknown) => {
    stop.dispose(); // a failed start ends the process; signals take their default action again
    throw err;
  });
  await stop.received;
  await daemon.stop();
  // Everything is closed; a handle someone forgot (a socket, a timer) must not keep a stopped
  // daemon alive, which would hold up a service manager's restart. Say what it was, then go.
  setTimeout(() => {
    log.warn({ handles: process.getActiveResourcesInfo() }, 'still open after stopping; exiting anyway');
    process.exit(0);
  }, 3000).unref();
  return 0;
}
