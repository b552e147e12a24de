import type { ObservedContainer, ObservedPod } from './observed';
import { withoutJustStarted } from './status_lag';

const container = (name: string, restartCount: number, state: ObservedContainer['state']) =>
  ({ id: `${name}-${restartCount}`, name, restartCount, state }) as ObservedContainer;

test('the status of a sync leaves out the instances it has just started, as the kubelet shows them a relist later', () => {
  const observed = {
    sandboxes: [],
    containers: [
      container('app', 0, 'exited'),
      container('app', 1, 'running'),
      container('side', 0, 'running'),
    ],
  } as unknown as ObservedPod;
  const shown = withoutJustStarted(observed, [{ name: 'app', restartCount: 1 }]);
  // The previous instance of a restarted container still shows, as its last state.
  expect(shown.containers.map((c) => c.id)).toEqual(['app-0', 'side-0']);
  expect(withoutJustStarted(observed, [])).toBe(observed);
});
