#!/usr/bin/env node
// The `nodelet` command: one binary, one sub-command per process role or tool.
// Each command's modules are loaded only when it runs: a daemon that loaded the agent's (and the
// config command's) would keep about 4 MB of their code and objects in its heap for nothing.
import { DAEMON_NODE_FLAGS } from '../common/node_flags';
import { NODELET_VERSION } from '../version';
import { CliUsageError } from './usage';

const USAGE = `Usage: nodelet <command> [flags]

Commands:
  daemon    serve the CRI (RuntimeService and ImageService) on a unix socket
  agent     the mini kubelet (standalone mode: static pods from a manifest directory)
  config    print the default configuration or its reference
  image     pull, list, remove, import and export images (on the state directory)
  monitor   the per-node parent of every container (started by the daemon)
  version   print nodelet's version

Run 'nodelet <command> --help' for the flags of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'daemon':
      (await import('./node_flags_exec')).execWithNodeFlags(DAEMON_NODE_FLAGS);
      return (await import('./daemon')).runDaemonCommand(rest);
    case 'config':
      return (await import('./config')).runConfigCommand(rest);
    case 'monitor':
      // Loaded only here: the other commands never pay for the monitor's modules.
      return (await import('../monitor/main')).runMonitor(rest);
    case 'version':
    case '--version':
      process.stdout.write(`nodelet ${NODELET_VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    case 'agent':
      return (await import('./agent')).runAgentCommand(rest);
    case 'image':
      // Loaded only here: the image code pulls in koffi and the stores.
      return (await import('./image')).runImageCommand(rest);
    default:
      process.stderr.write(`nodelet: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof CliUsageError;
    process.stderr.write(`nodelet: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
