import { containerNamespacePlan } from './plan';

test('a container always gets a fresh mount namespace and joins the pod namespaces given by path', () => {
  const plan = containerNamespacePlan([
    { type: 'pid' },
    { type: 'network', path: '/run/nodelet/ns/pod/network' },
    { type: 'ipc', path: '/run/nodelet/ns/pod/ipc' },
    { type: 'uts' },
  ]);
  expect(plan.create).toEqual(['mount', 'pid', 'uts']);
  expect(plan.join).toEqual([
    { type: 'network', path: '/run/nodelet/ns/pod/network' },
    { type: 'ipc', path: '/run/nodelet/ns/pod/ipc' },
  ]);
});

test('a new cgroup namespace is left to the init, which creates it after joining its cgroups', () => {
  expect(containerNamespacePlan([{ type: 'cgroup' }]).create).toEqual(['mount']);
});

test('joining another mount namespace or a user namespace is refused clearly', () => {
  expect(() => containerNamespacePlan([{ type: 'mount', path: '/proc/1/ns/mnt' }])).toThrow(/needs its own/);
  expect(() => containerNamespacePlan([{ type: 'user' }])).toThrow(/user namespaces are not implemented/);
});
