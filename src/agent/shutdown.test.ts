import type { DesiredPod } from './manifest';
import { runShutdown, shutdownPlan } from './shutdown';

const pod = (name: string, spec: Record<string, unknown>): DesiredPod =>
  ({
    uid: name,
    name,
    namespace: 'default',
    file: '',
    pod: { spec: { containers: [], ...spec } },
  }) as unknown as DesiredPod;

describe('graceful node shutdown', () => {
  const pods = [
    pod('web', { terminationGracePeriodSeconds: 60 }),
    pod('quick', { terminationGracePeriodSeconds: 2 }),
    pod('dns', { priority: 2_000_000_000 }),
    pod('proxy', { priorityClassName: 'system-node-critical' }),
  ];

  test('regular pods go first with what the critical pods leave, then the critical pods with theirs', () => {
    const plan = shutdownPlan(pods, { gracePeriodS: 30, criticalPodsGracePeriodS: 10 });
    expect(plan).toEqual([
      {
        priority: 0,
        graceS: 20,
        pods: [
          { uid: 'web', name: 'web', graceS: 20 },
          { uid: 'quick', name: 'quick', graceS: 2 },
        ],
      },
      {
        priority: 2_000_000_000,
        graceS: 10,
        pods: [
          { uid: 'dns', name: 'dns', graceS: 10 },
          { uid: 'proxy', name: 'proxy', graceS: 10 },
        ],
      },
    ]);
  });

  test('the critical pods start stopping only after every regular pod stopped and was marked', async () => {
    const calls: string[] = [];
    await runShutdown(shutdownPlan(pods, { gracePeriodS: 4, criticalPodsGracePeriodS: 2 }), {
      stopPod: async (uid) => {
        calls.push(`stop ${uid}`);
        await new Promise((r) => setTimeout(r, uid === 'web' ? 50 : 1));
      },
      markTerminated: async (uid) => {
        calls.push(`mark ${uid}`);
      },
    });
    const lastRegular = Math.max(calls.indexOf('mark web'), calls.indexOf('mark quick'));
    const firstCritical = Math.min(calls.indexOf('stop dns'), calls.indexOf('stop proxy'));
    expect(lastRegular).toBeLessThan(firstCritical);
    expect(calls.filter((c) => c.startsWith('mark')).sort()).toEqual([
      'mark dns',
      'mark proxy',
      'mark quick',
      'mark web',
    ]);
  });

  test('a pod that fails to stop does not keep the others from stopping', async () => {
    const errors: string[] = [];
    const marked: string[] = [];
    await runShutdown(shutdownPlan(pods, { gracePeriodS: 4, criticalPodsGracePeriodS: 2 }), {
      stopPod: async (uid) => {
        if (uid === 'web') throw new Error('runtime gone');
      },
      markTerminated: async (uid) => void marked.push(uid),
      onError: (uid) => errors.push(uid),
    });
    expect(errors).toEqual(['web']);
    expect(marked.sort()).toEqual(['dns', 'proxy', 'quick']);
  });
});
