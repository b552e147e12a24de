// The CNI exec protocol for one plugin: the command and identity travel in the environment, the
// network config on stdin, the result (or an error object) on stdout. See the CNI SPEC.md,
// "Section 3: Execution Protocol".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface PluginCall {
  command: CniCommand;
  containerId: string;
  /** Empty when the namespace is already gone (allowed for DEL). */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, e.g. K8S_POD_NAME. */
  args: Record<string, string>;
  binDirs: string[];
  /** The config written on stdin. */
  config: Record<string, unknown>;
  timeoutMs?: number;
  /** The whole operation's budget, named in the timeout message (default: timeoutMs). */
  budgetMs?: number;
}

/** The error a plugin reported (or the way it failed), with the spec's numeric code. */
export class CniPluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly code: number,
    readonly msg: string,
    readonly details = '',
  ) {
    super(`CNI plugin '${plugin}': ${msg}${details ? ` (${details})` : ''} (CNI code ${code})`);
    this.name = 'CniPluginError';
  }
}

/** Codes from the spec's "Error" section that nodelet reacts to. */
export const CNI_CODE = {
  incompatibleVersion: 1,
  invalidConfig: 7,
  tryAgain: 11,
  /** Ours, not the spec's: the plugin gave no answer in time and was killed. */
  timedOut: 998,
  /** Ours, not the spec's: the plugin could not be run or said nothing parsable. */
  execFailed: 999,
} as const;

const DEFAULT_TIMEOUT_MS = 60_000;

/** The first executable file named `type` in the bin dirs, or undefined. */
export function findPlugin(type: string, binDirs: string[]): string | undefined {
  if (!/^[A-Za-z0-9_.-]+$/.test(type)) return undefined;
  for (const dir of binDirs) {
    const file = path.join(dir, type);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The error a failing plugin prints (CNI spec "Error"); anything else falls back to its stderr. */
const pluginErrorSchema = z.object({
  code: z.number().int().optional(),
  msg: z.string(),
  details: z.string().optional(),
});

/** Runs one plugin and returns its parsed stdout (undefined when it printed nothing, as DEL may). */
export async function execPlugin(type: string, call: PluginCall): Promise<unknown> {
  const binary = findPlugin(type, call.binDirs);
  if (!binary) {
    throw new CniPluginError(type, CNI_CODE.execFailed, `plugin not found in ${call.binDirs.join(':')}`);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: pluginPath(),
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifName,
    CNI_ARGS: formatCniArgs(call.args),
    CNI_PATH: call.binDirs.join(':'),
  };
  const timeoutMs = call.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { code, stdout, stderr, timedOut } = await run(binary, env, JSON.stringify(call.config), timeoutMs);
  if (timedOut) {
    const budget = (call.budgetMs ?? timeoutMs) / 1000;
    throw new CniPluginError(
      type,
      CNI_CODE.timedOut,
      `gave no answer to ${call.command} within ${budget} s (cniTimeoutSeconds) and was killed`,
    );
  }
  const text = stdout.trim();
  let parsed: unknown;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      if (code === 0)
        throw new CniPluginError(type, CNI_CODE.execFailed, `printed a result that is not JSON: ${text}`);
    }
  }
  if (code !== 0) {
    const e = pluginErrorSchema.safeParse(parsed);
    if (e.success) {
      throw new CniPluginError(type, e.data.code ?? CNI_CODE.execFailed, e.data.msg, e.data.details ?? '');
    }
    const said = (stderr.trim() || text).slice(-2000);
    throw new CniPluginError(type, CNI_CODE.execFailed, `exited with ${code}${said ? `: ${said}` : ''}`);
  }
  return parsed;
}

// portmap and bandwidth run iptables and friends from /usr/sbin, which a daemon started with a
// user's PATH may lack.
function pluginPath(): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(':'),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ];
  return [...new Set(dirs.filter(Boolean))].join(':');
}

function formatCniArgs(args: Record<string, string>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}

interface RunResult {
  code: number | string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs the plugin as the leader of its own process group, so that a timeout kills what it started
 * too: a plugin stuck waiting on a helper (a shell script's `sleep`, an iptables lock) leaves that
 * helper holding our stdout pipe, and 'close' would never come. After a timeout the answer is
 * taken at the plugin's exit, whatever still holds the pipes.
 */
function run(binary: string, env: NodeJS.ProcessEnv, stdin: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already; the plugin itself may not be
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CniPluginError(path.basename(binary), CNI_CODE.execFailed, `cannot run: ${e.message}`));
    });
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({
        code: code ?? `signal ${signal}`,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    };
    child.on('exit', (code, signal) => {
      if (!timedOut) return;
      // A helper that left the group (setsid) may still hold the pipes: stop reading them.
      child.stdout.destroy();
      child.stderr.destroy();
      settle(code, signal);
    });
    child.on('close', settle);
    // A plugin that exits before reading stdin makes the write fail with EPIPE; its exit status says why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}
