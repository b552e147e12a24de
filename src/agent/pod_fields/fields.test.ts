import fs from 'node:fs';
import path from 'node:path';
import { generatePodFieldsTable, podFieldRows, staleNotes, withPodFieldsTable } from '.';
import { loadUpstreamTypes } from './upstream';

const DOC = path.resolve(__dirname, '../../../docs/agent.md');

describe('the table of Pod spec fields', () => {
  test('docs/agent.md holds the table the schema generates (regenerate: nodelet config pod-fields --write docs/agent.md)', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    expect(doc).toBe(withPodFieldsTable(doc, generatePodFieldsTable()));
  });

  test('every note names a field of the table', () => {
    expect(staleNotes(podFieldRows(loadUpstreamTypes()))).toEqual([]);
  });

  test('a schema field is honoured, an ignored one accepted, an API field the schema leaves out refused', () => {
    const upstream = {
      V1PodSpec: [
        { name: 'containers', type: 'Array<V1Container>' },
        { name: 'nodeName', type: 'string' },
        { name: 'resourceClaims', type: 'Array<V1PodResourceClaim>' },
      ],
      V1Container: [
        { name: 'name', type: 'string' },
        { name: 'volumeDevices', type: 'Array<V1VolumeDevice>' },
      ],
    };
    const rows = podFieldRows(upstream, {});
    const status = (p: string) => rows.find((r) => r.path === p)?.status;
    expect(status('containers')).toBe('honoured');
    expect(status('containers[].name')).toBe('honoured');
    expect(status('containers[].volumeDevices')).toBe('refused');
    expect(status('nodeName')).toBe('accepted');
    expect(status('tolerations')).toBe('accepted');
    expect(status('resourceClaims')).toBe('refused');
    // Init containers extend containers: only their own field is listed.
    expect(rows.filter((r) => r.path.startsWith('initContainers[].')).map((r) => r.path)).toEqual([
      'initContainers[].restartPolicy',
    ]);
  });

  test('a note can say what the schema alone does not, and a note on no field is found', () => {
    const rows = podFieldRows(loadUpstreamTypes(), {
      'volumes[].persistentVolumeClaim': { status: 'refused', note: 'not implemented' },
      'containers[].noSuchField': { note: 'stale' },
    });
    expect(rows.find((r) => r.path === 'volumes[].persistentVolumeClaim')).toEqual({
      path: 'volumes[].persistentVolumeClaim',
      status: 'refused',
      note: 'not implemented',
    });
    expect(staleNotes(rows, { 'containers[].noSuchField': { note: 'stale' } })).toEqual([
      'containers[].noSuchField',
    ]);
  });
});
