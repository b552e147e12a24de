// Attack: $(VAR) expansion that grows exponentially. Each env var may reference the ones before it
// many times, so a pod spec of a few hundred bytes asks the node to build values of hundreds of
// megabytes: the agent builds them synchronously on its event loop (every pod on the node stalls;
// a value of 256 MiB took 1.5 s and 350 MB), and a few such args exhaust its memory. No process
// could be started with them anyway: the kernel refuses an argument or environment string longer
// than MAX_ARG_STRLEN (128 KiB) at exec. The attack here is kept to 32 MiB values so the test
// cannot hurt the machine; the node must refuse it before building them, naming the variable.
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../src/agent';
import { IMAGE, NODE, useAgentNode } from './agent_node';

jest.setTimeout(240_000);

const node = useAgentNode('envexp');
const { dirs, start, statusOf, waitFor } = node;
let agent: Agent;

test('an env var or arg whose expansion outgrows what exec accepts is refused before it is built', async () => {
  // V0 is 1000 bytes; each next one is eight of the one before: V5 is 32 MiB.
  const env = [{ name: 'V0', value: 'x'.repeat(1000) }];
  for (let i = 1; i <= 5; i++) env.push({ name: `V${i}`, value: `$(V${i - 1})`.repeat(8) });
  const pod = (name: string, container: Record<string, unknown>) =>
    fs.writeFileSync(
      path.join(dirs().manifests, `${name}.json`),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', 'sleep 3600'], ...container }],
        },
      }),
    );
  pod('evil-env', { env });
  // Every arg alone stays under the limit, together they do not (each 96 KiB, 64 of them).
  const small = [{ name: 'S', value: 'y'.repeat(96 * 1024) }];
  pod('evil-args', { env: small, command: ['sh', '-c', 'sleep 3600', ...Array(64).fill('$(S)')] });
  // A legitimate expansion still works.
  pod('fine', {
    env: [
      { name: 'A', value: 'hello' },
      { name: 'B', value: '$(A)-$(A)' },
    ],
    command: ['sh', '-c', 'echo "$B $(B)"; sleep 3600'],
  });
  agent = await start();
  agent.rescan();

  const waiting = (name: string) =>
    waitFor(`${name} to be refused`, () => {
      const c = statusOf(name)?.containerStatuses[0];
      return c && 'waiting' in c.state && c.state.waiting.message ? c.state.waiting : undefined;
    });
  expect(await waiting('evil-env')).toEqual({
    reason: 'CreateContainerConfigError',
    message: 'env "V3" of container "main" expands beyond 131072 bytes, more than exec accepts',
  });
  expect(await waiting('evil-args')).toEqual({
    reason: 'CreateContainerConfigError',
    message: expect.stringMatching(
      /^the environment and args of container "main" expand beyond 2097152 bytes/,
    ),
  });
  await waitFor('the fine pod to run', () => statusOf('fine')?.phase === 'Running');
  const uid = [...agent.pods().values()].find((p) => p.desired.name === `fine-${NODE}`)!.desired.uid;
  const log = path.join(dirs().logs, `default_fine-${NODE}_${uid}`, 'main', '0.log');
  await waitFor(
    'the fine pod to log',
    () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('hello'),
  );
  expect(fs.readFileSync(log, 'utf8')).toContain('hello-hello hello-hello');
});
