// The real crictl against one endpoint, as the tests run it: found like every tool (tools.ts), with
// no user crictl.yaml in play, and a spawn failure reported with its cause.
import { spawn, type ChildProcess } from 'node:child_process';
import { findTool, mustRunTool, runTool, type ToolResult } from './tools';

export interface Crictl {
  /** The crictl binary's path. */
  bin: string;
  /** The endpoint flags, for a command line a test builds itself (a pty, a shell). */
  endpointArgs: string[];
  /** Runs crictl; a non-zero exit is returned, a crictl that could not run throws. */
  run(args: string[], options?: { input?: string | Buffer; timeoutMs?: number }): ToolResult;
  /** Runs crictl that must succeed; its stdout. */
  must(args: string[], options?: { timeoutMs?: number }): string;
  /** Starts crictl with piped stdio. */
  spawn(args: string[]): ChildProcess;
}

export function crictlFor(endpoint: string): Crictl {
  const bin = findTool('crictl');
  const endpointArgs = ['--runtime-endpoint', endpoint, '--image-endpoint', endpoint];
  const env = { ...process.env, CRI_CONFIG_FILE: '/dev/null' };
  return {
    bin,
    endpointArgs,
    run: (args, options = {}) =>
      runTool(bin, [...endpointArgs, ...args], { input: options.input, timeout: options.timeoutMs, env }),
    must: (args, options = {}) =>
      mustRunTool(bin, [...endpointArgs, ...args], { timeout: options.timeoutMs, env }),
    spawn: (args) => spawn(bin, [...endpointArgs, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
  };
}
