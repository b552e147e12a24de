import { planGc } from './gc';
import type { ObservedContainer } from './observed';

const c = (
  id: string,
  name: string,
  state: ObservedContainer['state'],
  sandboxId = 's2',
): ObservedContainer => ({ id, name, state, sandboxId }) as ObservedContainer;
const sb = (id: string, ready: boolean) => ({ id, ready, attempt: 0, createdAtMs: 0, ips: [] });

test('only the newest dead container of each name is kept', () => {
  const plan = planGc({
    sandboxes: [sb('s2', true)],
    containers: [
      c('a3', 'a', 'running'),
      c('a2', 'a', 'exited'),
      c('a1', 'a', 'exited'),
      c('b1', 'b', 'exited'),
    ],
  });
  expect(plan.containers).toEqual(['a1']);
});

test('old dead sandboxes go unless they hold a container that is kept', () => {
  const plan = planGc({
    sandboxes: [sb('s3', true), sb('s2', false), sb('s1', false)],
    containers: [c('a2', 'a', 'running', 's3'), c('a1', 'a', 'exited', 's2')],
  });
  expect(plan.sandboxes).toEqual(['s1']);
});
