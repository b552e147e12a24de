export { RecordStore, type RecordChange, type VersionedRecord } from './record_store';
export { NameIndex } from './names';
export * from './records';
