// The dashboards and alerts in manifests/monitoring must only name metrics nodelet defines: a
// renamed metric would otherwise leave an empty panel or an alert that can never fire.
import fs from 'node:fs';
import path from 'node:path';
import { CADVISOR_METRICS } from './cadvisor_table';
import { createRegistry } from './registry';
import { createRuntimeMetrics } from './runtime';

const MONITORING = path.resolve(__dirname, '..', '..', 'manifests', 'monitoring');

async function definedNames(): Promise<Set<string>> {
  const registry = createRegistry();
  createRuntimeMetrics(registry);
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  return new Set([...names, ...CADVISOR_METRICS.map((m) => m.name)]);
}

function usedNames(file: string): string[] {
  const text = fs.readFileSync(path.join(MONITORING, file), 'utf8');
  const found = text.match(/\b(?:nodelet|container)_[a-z0-9_]+\b/g) ?? [];
  return [...new Set(found.map((n) => n.replace(/_(bucket|count|sum)$/, '')))];
}

describe('the monitoring manifests', () => {
  test.each(['grafana-dashboard.json', 'nodelet-alerts.yml'])(
    '%s names only metrics nodelet defines',
    async (file) => {
      const defined = await definedNames();
      const used = usedNames(file);
      expect(used.length).toBeGreaterThan(0);
      expect(used.filter((n) => !defined.has(n))).toEqual([]);
    },
  );
});
