// The table of Pod spec fields in docs/agent.md: what the agent does with each, from the schema.
import { podFieldRows } from './fields';
import { podFieldsTable } from './markdown';
import { loadUpstreamTypes } from './upstream';

export { podFieldRows, staleNotes } from './fields';
export type { FieldRow, FieldStatus } from './fields';
export { BEGIN_MARKER, END_MARKER, podFieldsTable, withPodFieldsTable } from './markdown';
export { loadUpstreamTypes } from './upstream';

/** The table as the generator writes it. */
export function generatePodFieldsTable(): string {
  return podFieldsTable(podFieldRows(loadUpstreamTypes()));
}
