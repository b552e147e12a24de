// Pod admission as the kubelet's: what other folders may use.
export { admitPod, isCriticalPod, type Allocatable, type AdmissionNode, type Rejection } from './admit';
export {
  matchesNodeAffinity,
  tolerates,
  untoleratedNoExecute,
  type NodeView,
  type Taint,
} from './node_match';
export { podRequests, containerRequests, type PodRequests } from './requests';
