// Running a whole conflist, as libcni does: ADD goes through the plugins in order, each receiving
// the previous one's result as `prevResult`; DEL goes in reverse with the final ADD result; CHECK
// goes in order with it. Each plugin's stdin is its own config plus the list's name and
// cniVersion, plus the runtimeConfig values it declared capabilities for.
import type { NetworkConfList, PluginConf } from './conf';
import { CniPluginError, CniCommand, execPlugin } from './exec';

export interface ListCall {
  containerId: string;
  netns: string;
  ifName: string;
  args: Record<string, string>;
  binDirs: string[];
  runtimeConfig: Record<string, unknown>;
  /** Time the whole list may take (each plugin gets what is left); the exec default when absent. */
  timeoutMs?: number;
}

export type RawResult = Record<string, unknown>;

export async function addNetworkList(list: NetworkConfList, call: ListCall): Promise<RawResult> {
  let prev: RawResult | undefined;
  const budget = deadlineOf(call);
  for (const plugin of list.plugins) {
    const out = await execPlugin(plugin.type, {
      ...call,
      ...budget(),
      command: 'ADD',
      config: pluginConfig(list, plugin, call.runtimeConfig, prev),
    });
    if (typeof out !== 'object' || out === null || Array.isArray(out)) {
      throw new CniPluginError(plugin.type, 999, 'ADD printed no result');
    }
    prev = out as RawResult;
  }
  return prev as RawResult;
}

/**
 * DEL through every plugin in reverse. It goes on past a failing plugin, so one broken step does
 * not leak what the others hold, then throws the failures together so that the caller retries.
 */
export async function delNetworkList(
  list: NetworkConfList,
  call: ListCall,
  result: RawResult | undefined,
): Promise<void> {
  const failures: string[] = [];
  const prev = atLeast(list.cniVersion, '0.4.0') ? result : undefined;
  const budget = deadlineOf(call);
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await run('DEL', list, plugin, { ...call, ...budget() }, prev);
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  if (failures.length > 0) throw new Error(failures.join('; '));
}

/** CHECK in order; skipped for lists that disable it or predate it (before 0.4.0). */
export async function checkNetworkList(
  list: NetworkConfList,
  call: ListCall,
  result: RawResult,
): Promise<void> {
  if (list.disableCheck || !atLeast(list.cniVersion, '0.4.0')) return;
  const budget = deadlineOf(call);
  for (const plugin of list.plugins) {
    // bandwidth 1.1.1 (Debian 12) dereferences a nil config in CHECK when the pod has no limits,
    // and then has nothing to check anyway.
    if (plugin.type === 'bandwidth' && call.runtimeConfig.bandwidth === undefined) continue;
    await run('CHECK', list, plugin, { ...call, ...budget() }, result);
  }
}

/**
 * One deadline for a whole list, as the kubelet gives one to the whole RunPodSandbox: each plugin
 * gets the time its predecessors left (at least a second, so the last one is not killed unheard).
 */
function deadlineOf(call: ListCall): () => { timeoutMs?: number; budgetMs?: number } {
  if (call.timeoutMs === undefined) return () => ({});
  const total = call.timeoutMs;
  const end = Date.now() + total;
  return () => ({ timeoutMs: Math.max(1000, end - Date.now()), budgetMs: total });
}

async function run(
  command: CniCommand,
  list: NetworkConfList,
  plugin: PluginConf,
  call: ListCall & { budgetMs?: number },
  prev: RawResult | undefined,
): Promise<void> {
  await execPlugin(plugin.type, {
    ...call,
    command,
    config: pluginConfig(list, plugin, call.runtimeConfig, prev),
  });
}

function pluginConfig(
  list: NetworkConfList,
  plugin: PluginConf,
  runtimeConfig: Record<string, unknown>,
  prevResult: RawResult | undefined,
): Record<string, unknown> {
  const config: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const wanted = Object.entries(plugin.capabilities ?? {})
    .filter(([key, on]) => on && runtimeConfig[key] !== undefined)
    .map(([key]) => [key, runtimeConfig[key]]);
  if (wanted.length > 0) config.runtimeConfig = Object.fromEntries(wanted);
  if (prevResult) config.prevResult = prevResult;
  return config;
}

/** Compares dotted versions: "1.0.0" >= "0.4.0". An empty version counts as 0.1.0, as libcni says. */
function atLeast(version: string, min: string): boolean {
  const a = (version || '0.1.0').split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] || 0;
    const y = b[i] || 0;
    if (x !== y) return x > y;
  }
  return true;
}
