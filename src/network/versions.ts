// CNI VERSION: whether every plugin of a list speaks the list's cniVersion. Debian's plugins
// (1.1.1) stop at 1.0.0, so a conflist that says 1.1.0 has every ADD refused; NetworkReady should
// say so before the first pod tries.
import type { NetworkConfList } from './conf';
import { execPlugin } from './exec';

/** One sentence per plugin that cannot run this list; [] when all can. */
export async function versionProblems(list: NetworkConfList, binDirs: string[]): Promise<string[]> {
  const types = [...new Set(list.plugins.map((p) => p.type))];
  const answers = await Promise.all(
    types.map(async (type) => {
      try {
        const out = (await execPlugin(type, {
          command: 'VERSION',
          containerId: '',
          netns: '',
          ifName: '',
          args: {},
          binDirs,
          config: { cniVersion: list.cniVersion },
          timeoutMs: 10_000,
        })) as { supportedVersions?: unknown } | undefined;
        const supported = Array.isArray(out?.supportedVersions) ? out.supportedVersions.map(String) : [];
        if (supported.includes(list.cniVersion)) return undefined;
        return `CNI plugin '${type}' speaks ${supported.join(', ') || 'no version'}, not ${list.cniVersion}`;
      } catch (err) {
        return `Cannot ask CNI plugin '${type}' its versions: ${(err as Error).message}`;
      }
    }),
  );
  return answers.filter((a): a is string => a !== undefined);
}
