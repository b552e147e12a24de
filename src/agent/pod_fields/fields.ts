// Every field of the Pod spec and what the agent does with it, from the zod schema (pod_spec.ts)
// and the API's field list: a field in the schema is honoured, or accepted and left to other
// components when its schema is `ignored` (described ACCEPTED); a field of the API the strict
// schema leaves out is refused (the pod fails, naming it). notes.ts adds a word where that is not
// the whole story. Rows are sorted by name, so fields others add merge with a regenerate.
import type { ZodTypeAny } from 'zod';
import { ACCEPTED_BY_OTHERS, podSchema } from '../pod_spec';
import { FIELD_NOTES, type FieldNote } from './notes';
import { modelOf, UPSTREAM_ROOT, type UpstreamTypes } from './upstream';

export type FieldStatus = 'honoured' | 'accepted' | 'refused';

export interface FieldRow {
  path: string;
  status: FieldStatus;
  note: string;
}

interface Def {
  typeName: string;
  innerType?: ZodTypeAny;
  schema?: ZodTypeAny;
  type?: ZodTypeAny;
  in?: ZodTypeAny;
  unknownKeys?: string;
  getter?: () => ZodTypeAny;
}

const def = (s: ZodTypeAny) => s._def as Def;

/** The schema under its wrappers (optional, refinements, ...); arrays are looked through too. */
function unwrap(s: ZodTypeAny): { base: ZodTypeAny; array: boolean; described?: string } {
  let array = false;
  let described = s.description;
  for (;;) {
    const d = def(s);
    const next =
      d.typeName === 'ZodOptional' || d.typeName === 'ZodNullable' || d.typeName === 'ZodDefault'
        ? d.innerType
        : d.typeName === 'ZodEffects'
          ? d.schema
          : d.typeName === 'ZodBranded'
            ? d.type
            : d.typeName === 'ZodPipeline'
              ? d.in
              : d.typeName === 'ZodLazy'
                ? d.getter!()
                : d.typeName === 'ZodArray'
                  ? ((array = true), d.type)
                  : undefined;
    if (!next) return { base: s, array, described };
    s = next;
    described ??= s.description;
  }
}

type Shape = Record<string, ZodTypeAny>;
const shapeOf = (s: ZodTypeAny): Shape | undefined =>
  def(s).typeName === 'ZodObject' ? (s as unknown as { shape: Shape }).shape : undefined;

interface Walked {
  path: string;
  shape: Shape;
  model?: string;
}

/** The rows of the Pod spec, each field once; `notes` defaults to notes.ts. */
export function podFieldRows(
  upstream: UpstreamTypes,
  notes: Record<string, FieldNote> = FIELD_NOTES,
): FieldRow[] {
  const rows: FieldRow[] = [];
  const walked: Walked[] = [];
  const specSchema = shapeOf(podSchema)!.spec;

  function walk(prefix: string, schema: ZodTypeAny, model: string | undefined): void {
    const { base } = unwrap(schema);
    const shape = shapeOf(base)!;
    const strict = def(base).unknownKeys === 'strict';
    const up = (model && upstream[model]) || [];
    // Another object with the same field schemas (init containers extend containers, the three
    // probes share one): only what differs is listed here.
    const like = walked.find(
      (w) =>
        w.shape !== shape &&
        Object.keys(w.shape).length > 0 &&
        Object.keys(w.shape).every((k) => shape[k] === w.shape[k]),
    );
    walked.push({ path: prefix, shape, model });
    const names = [...new Set([...Object.keys(shape), ...up.map((f) => f.name)])].sort();
    for (const name of names) {
      const field = shape[name];
      if (like && (field ? like.shape[name] === field : !like.shape[name] && like.model === model)) continue;
      const path = prefix ? `${prefix}.${name}` : name;
      const upField = up.find((f) => f.name === name);
      const row = fieldRow(path, field, strict, upField === undefined && up.length > 0);
      const note = notes[path];
      rows.push({ ...row, status: note?.status ?? row.status, note: note?.note ?? row.note });
      if (!field || row.status === 'accepted') continue;
      const inner = unwrap(field);
      if (!shapeOf(inner.base)) continue;
      const childPath = inner.array ? `${path}[]` : path;
      const same = walked.find((w) => w.shape === shapeOf(inner.base));
      if (same) {
        const last = rows[rows.length - 1];
        last.note = [last.note, `fields as \`${same.path}\``].filter(Boolean).join('; ');
        continue;
      }
      walk(childPath, field, modelOf(upField?.type));
    }
    if (like && prefix) {
      const parent = rows.find((r) => r.path === prefix.replace(/\[\]$/, ''));
      if (parent) parent.note = [parent.note, `other fields as \`${like.path}\``].filter(Boolean).join('; ');
    }
  }

  walk('', specSchema, UPSTREAM_ROOT);
  return rows;
}

function fieldRow(path: string, field: ZodTypeAny | undefined, strict: boolean, newer: boolean): FieldRow {
  if (!field)
    return strict
      ? { path, status: 'refused', note: 'not in the schema: the pod fails naming it' }
      : { path, status: 'accepted', note: '' };
  const { described } = unwrap(field);
  if (described === ACCEPTED_BY_OTHERS) return { path, status: 'accepted', note: '' };
  return {
    path,
    status: 'honoured',
    note: newer ? 'newer than the API list this table is checked against' : '',
  };
}

/** Paths of notes.ts that name no field of the table: a renamed or removed field. */
export function staleNotes(rows: FieldRow[], notes: Record<string, FieldNote> = FIELD_NOTES): string[] {
  const paths = new Set(rows.map((r) => r.path));
  return Object.keys(notes).filter((p) => !paths.has(p));
}
