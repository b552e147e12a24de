// The help texts of the `nodelet` commands, apart from the commands themselves: `--help` prints them
// and the configuration reference (docs/configuration.md) copies them, so the two never drift, and
// the reference does not load the commands' modules to get them.
// A deep import: the kubelet API's index loads its server; its flags module loads nothing.
import { KUBELET_API_HELP } from '../agent/kubelet_api/flags';
import { NODE_OPS_HELP } from './agent_node_ops';

export const DAEMON_HELP = `Usage: nodelet daemon [flags]

Serves the CRI RuntimeService and ImageService on a unix socket.

Flags (each overrides the key of the configuration file in brackets):
  --config FILE            configuration file (default /etc/nodelet/config.yaml, optional)
  --socket PATH            CRI socket [socket] (default <run-dir>/nodelet.sock)
  --state-dir DIR          persistent state [stateDir] (default /var/lib/nodelet)
  --run-dir DIR            runtime state [runDir] (default /run/nodelet)
  --log-level LEVEL        trace|debug|info|warn|error|fatal [logLevel] (default info)
  --metrics-address ADDR   host:port of /metrics, empty to turn off [metricsAddress] (default 127.0.0.1:10375)
`;

const AGENT_OWN_HELP = `Usage: nodelet agent [flags]

Runs pods through a CRI runtime, as the kubelet does: the static pods of a manifest directory, and
with --kubeconfig the pods the API server binds to this node (connected mode: the Node, its Lease,
pod statuses, mirror pods of the static pods, graceful deletion).

Flags:
  --pod-manifest-path DIR            directory of Pod manifests (YAML or JSON, one pod a file)
  --container-runtime-endpoint URL   CRI socket (default unix:///run/nodelet/nodelet.sock)
  --kubeconfig FILE                  connected mode: the API server and this node's credentials
  --hostname-override NAME           node name (default the host name)
  --node-ip IP                       the node's InternalIP (default the first non-loopback IPv4)
  --max-pods N                       pods the node admits (OutOfpods past it) and publishes (default 110)
  --allowed-unsafe-sysctls LIST      unsafe sysctls pods may set besides the safe ones, comma-separated
                                     names or prefix* patterns of namespaced sysctls (default none)
  --cluster-dns IP[,IP]              cluster DNS servers for dnsPolicy ClusterFirst pods (repeatable;
                                     none: those pods get the host's resolver, with a warning event)
  --cluster-domain DOMAIN            cluster domain: search list <ns>.svc.DOMAIN svc.DOMAIN DOMAIN
  --resolv-conf FILE                 resolver file for dnsPolicy Default pods (default /etc/resolv.conf;
                                     '' gives them nameserver 127.0.0.1)
  --system-reserved LIST             resources kept for the system, e.g. cpu=500m,memory=1Gi,ephemeral-storage=1Gi
                                     (KubeletConfiguration systemReserved; subtracted from allocatable)
  --kube-reserved LIST               resources kept for the node's own daemons, same form [kubeReserved]
  --eviction-hard LIST               hard eviction thresholds, e.g. memory.available<100Mi,nodefs.available<10%
                                     [evictionHard] (default memory.available<100Mi,nodefs.available<10%,
                                     nodefs.inodesFree<5%,imagefs.available<15%,imagefs.inodesFree<5%;
                                     given, it replaces them all; a 0 threshold turns a signal off)
  --eviction-soft LIST               soft thresholds, same form [evictionSoft] (default none)
  --eviction-soft-grace-period LIST  how long each soft threshold must hold, e.g. memory.available=1m30s
                                     [evictionSoftGracePeriod]
  --eviction-pressure-transition-period DURATION
                                     how long a pressure condition stays after its threshold was last met
                                     [evictionPressureTransitionPeriod] (default 5m)
  --eviction-max-pod-grace-period S  longest grace period of a pod evicted by a soft threshold, 0: its own
                                     [evictionMaxPodGracePeriod] (default 0)
  --housekeeping-interval DURATION   how often the eviction manager looks at the node (default 10s)
  --root-dir DIR                     pod directories and status files (default /var/lib/nodelet/agent)
  --pod-logs-dir DIR                 container log files (default /var/log/pods)
  --container-logs-dir DIR           the <pod>_<ns>_<container>-<id>.log links to them (default
                                     /var/log/containers)
  --container-log-max-size SIZE      rotate a running container's log at this size (default 10Mi;
                                     negative: never)
  --container-log-max-files N        files kept per container, the live one included (default 5, at least 2)
  --container-log-monitor-interval DURATION
                                     how often logs are checked for rotation (default 10s, at least 3s)
  --cgroup-driver cgroupfs|systemd   used when the runtime does not report its own (default cgroupfs)
  --cgroup-root PATH                 parent of the kubepods cgroup (default /)
  --enforce-node-allocatable LIST    pods: the kubepods cgroup's memory, cpu shares and pids held to
                                     allocatable (capacity minus the reservations); none: to capacity
                                     [enforceNodeAllocatable] (default pods)
  --pod-max-pids N                   pids limit of each pod cgroup [podPidsLimit] (default -1: none)
  --file-check-frequency DURATION    rescan of the manifest directory, e.g. 20s (default 20s)
  --sync-frequency DURATION          how often configMap, secret and token volumes are read again (default 1m)
  --log-level LEVEL                  trace|debug|info|warn|error|fatal (default info)
  --image-gc-high-threshold PERCENT  image filesystem usage that starts image GC (default 85)
  --image-gc-low-threshold PERCENT   usage image GC frees down to (default 80)
  --minimum-image-gc-age DURATION    unused images younger than this are kept (default 2m)
  --image-gc-period DURATION         how often image GC looks; nodelet's own, for tests (default 5m)
`;

export const AGENT_HELP = AGENT_OWN_HELP + NODE_OPS_HELP + KUBELET_API_HELP;

export const IMAGE_HELP = `Usage: nodelet image <command> [flags]

Commands:
  pull REF [--username U --password P]   pull from a registry (mirrors from the config)
  ls [-q]                                list images
  rm REF...                              remove images (every tag of each)
  import FILE|- [--name REF]             load an OCI-layout or docker-archive tarball
  export FILE|- REF...                   save images as one OCI-layout + docker-archive tarball

Flags:
  --config FILE      daemon configuration (default /etc/nodelet/config.yaml, optional)
  --state-dir DIR    state directory [stateDir] (default /var/lib/nodelet)
`;

export const CONFIG_HELP = `Usage: nodelet config defaults|reference|pod-fields

Commands:
  defaults                  print the daemon's configuration with every default, as YAML
  reference                 print this configuration reference (docs/configuration.md), as Markdown
  pod-fields [--write FILE] print the agent's table of Pod fields, or write it between its markers
                            in FILE (docs/agent.md)
`;

/** Each command with its help, in the order the reference lists them. */
export const COMMAND_HELP: { command: string; help: string }[] = [
  { command: 'daemon', help: DAEMON_HELP },
  { command: 'agent', help: AGENT_HELP },
  { command: 'image', help: IMAGE_HELP },
  { command: 'config', help: CONFIG_HELP },
];
