// Eviction and the node's resource accounting: what other folders may use.
export {
  allocatable,
  DEFAULT_EVICTION_HARD,
  parseMapFlag,
  parseReserved,
  parseThresholds,
  type EvictionConfig,
} from './config';
export { EVICTED_REASON, type PressureCondition } from './manager';
export { checkNodeGateConfig, nodeCapacity, startNodeGate, type NodeGateConfig } from './node_gate';
