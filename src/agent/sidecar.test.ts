import { terminationTurns } from './sidecar';

test('app containers stop at once, sidecars after them, the last sidecar first', async () => {
  const order: string[] = [];
  const turns = terminationTurns(['app1', 'first', 'app2', 'second'], ['first', 'second']);
  const stop = async (name: string) => {
    await turns.waitForTurn(name);
    order.push(name);
    turns.stopped(name);
  };
  await Promise.all(['first', 'second', 'app1', 'app2'].map(stop));
  expect(order.slice(2)).toEqual(['second', 'first']);
  expect(order.slice(0, 2).sort()).toEqual(['app1', 'app2']);
});

test('a sidecar does not wait for containers that are not running', async () => {
  const turns = terminationTurns(['first'], ['first', 'second']);
  await expect(turns.waitForTurn('first')).resolves.toBeUndefined();
});
