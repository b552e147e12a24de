// Pod admission as the kubelet's: what other folders may use.
export {
  admitPod,
  admitResize,
  isCriticalPod,
  type Allocatable,
  type AdmissionNode,
  type Rejection,
  type ResizeRejection,
} from './admit';
export {
  matchesNodeAffinity,
  tolerates,
  untoleratedNoExecute,
  type NodeView,
  type Taint,
} from './node_match';
export { podRequests, containerRequests, type PodRequests } from './requests';
