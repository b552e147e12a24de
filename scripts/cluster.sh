#!/usr/bin/env bash
# A multi-node Kubernetes cluster on this machine, built from the upstream binaries (kind cannot run
# here: see docs/conformance.md), with nodelet nodes in it.
#
#   scripts/cluster.sh up [--nodes N] [--node-kind agent|kubelet|kubelet-containerd] [--dir DIR]
#   scripts/cluster.sh down --dir DIR
#
# The control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) and a
# docker-registry holding the images run on the host, on the address of a bridge of the cluster's
# own (nlc<tag>, 10.250.<slot>.1). Each node is a network namespace on that bridge (10.250.<slot>.1N)
# with its own pod CIDR (10.244.<16*slot+N>.0/24), routes to the other nodes' pods and from the host,
# kube-proxy in iptables mode, and a runtime with a node agent, all of them started with
# `nsenter --net` (the network namespace only: the kubelet's volume mounts must stay visible to the
# runtime). Nothing is routed off the machine: nodes have no default route and nothing masquerades.
# Everything `up` made is recorded under DIR (pid files, the slot, the namespaces), so `down` undoes
# exactly that; `down` is safe to run twice. `up` ends with the line KUBECONFIG=<admin kubeconfig>.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

TOOLS=/usr/local/bin
KUBECTL="$TOOLS/nodelet-kubectl"
SLOTS=/run/nodelet-cluster
SERVICE_CIDR=10.96.0.0/16
DNS_IP=10.96.0.10
APISERVER_PORT=6443
REGISTRY_PORT=5000

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'cluster: %s\n' "$*" >&2
  exit 1
}

# A failed `up` removes what it made (NODELET_CLUSTER_KEEP=1 keeps it to look at; then run `down`).
UP_DONE=""
on_up_exit() {
  [ -n "$UP_DONE" ] && return
  if [ -n "${NODELET_CLUSTER_KEEP:-}" ]; then
    log "up failed: kept $DIR (logs in $DIR/logs); remove it with scripts/cluster.sh down --dir $DIR"
  else
    log "up failed: removing what it made (NODELET_CLUSTER_KEEP=1 keeps it)"
    local f
    for f in "$DIR"/logs/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
    down
  fi
}

usage() {
  cat >&2 <<'EOF'
Usage: scripts/cluster.sh up [--nodes N] [--node-kind agent|kubelet|kubelet-containerd] [--dir DIR]
       scripts/cluster.sh down --dir DIR
EOF
  exit 2
}

# --- processes: one pid file each, "<pid> <start time>", so a reused pid is never killed -------------
start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# spawn NAME [NETNS] -- CMD...: starts CMD in the background (in NETNS when given), its output in
# DIR/logs/NAME.log, and records it in DIR/pids/NAME.pid.
spawn() {
  local name="$1" ns="$2"
  shift 3
  local cmd=("$@")
  [ -n "$ns" ] && cmd=(nsenter "--net=/run/netns/$ns" -- "${cmd[@]}")
  setsid "${cmd[@]}" </dev/null >>"$DIR/logs/$name.log" 2>&1 &
  local pid=$!
  echo "$pid $(start_time "$pid")" >"$DIR/pids/$name.pid"
  echo "$name" >>"$DIR/pids/order"
}

alive() { # alive NAME: the process of NAME's pid file still runs
  local f="$DIR/pids/$1.pid" pid st
  [ -f "$f" ] || return 1
  read -r pid st <"$f"
  [ -n "$pid" ] && [ "$(start_time "$pid")" = "$st" ]
}

stop_process() { # stop_process NAME [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 15)
  local f="$DIR/pids/$1.pid" pid st i
  [ -f "$f" ] || return 0
  read -r pid st <"$f"
  if alive "$1"; then
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 $((${2:-15} * 10))); do
      alive "$1" || break
      sleep 0.1
    done
    alive "$1" && kill -KILL "$pid" 2>/dev/null
    for i in $(seq 1 50); do
      alive "$1" || break
      sleep 0.1
    done
  fi
  rm -f "$f"
}

wait_for() { # wait_for SECONDS WHAT CMD...: polls CMD every half second
  local secs="$1" what="$2" i
  shift 2
  for i in $(seq 1 $((secs * 2))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "timed out after ${secs}s waiting for $what"
  return 1
}

# --- certificates ----------------------------------------------------------------------------------
# issue NAME CN [O,...] [SANs]: a key and a certificate signed by the cluster CA in DIR/pki.
issue() {
  local name="$1" cn="$2" groups="${3:-}" san="${4:-}" subj="" g ext
  for g in ${groups//,/ }; do subj="$subj/O=$g"; done
  subj="$subj/CN=$cn"
  openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$DIR/pki/$name.key" -out "$DIR/pki/$name.csr" 2>/dev/null
  ext="$DIR/pki/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl x509 -req -in "$DIR/pki/$name.csr" -CA "$DIR/pki/ca.crt" -CAkey "$DIR/pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$ext" -out "$DIR/pki/$name.crt" 2>/dev/null
}

kubeconfig() { # kubeconfig NAME: DIR/kubeconfigs/NAME.yaml for the certificate pki/NAME
  cat >"$DIR/kubeconfigs/$1.yaml" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: nodelet
  cluster: { server: "https://$API_IP:$APISERVER_PORT", certificate-authority: "$DIR/pki/ca.crt" }
users:
- name: $1
  user: { client-certificate: "$DIR/pki/$1.crt", client-key: "$DIR/pki/$1.key" }
contexts:
- name: nodelet
  context: { cluster: nodelet, user: $1 }
current-context: nodelet
EOF
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

kc() { "$KUBECTL" --kubeconfig "$DIR/kubeconfigs/admin.yaml" "$@"; }

# --- cgroups (v1 hierarchies, and the v2 mount if it is the only one) ---------------------------------
make_cgroup() { # make_cgroup /relative/path in every hierarchy, cpuset seeded from its parent
  local base=/sys/fs/cgroup c dir parent f
  for c in "$base"/*/; do
    dir="$c${1#/}"
    mkdir -p "$dir" 2>/dev/null || continue
    if [ -f "$c/cpuset.cpus" ]; then
      parent="$c"
      local part
      for part in $(echo "${1#/}" | tr '/' ' '); do
        parent="$parent$part/"
        for f in cpuset.cpus cpuset.mems; do
          [ -s "$parent$f" ] && [ -n "$(tr -d '\n' <"$parent$f")" ] || cat "$(dirname "$parent")/$f" >"$parent$f" 2>/dev/null
        done
      done
    fi
  done
}

remove_cgroup() { # remove_cgroup /relative: kills what is left in it, then removes it deepest first
  local base=/sys/fs/cgroup c top pid i
  for c in "$base"/*/; do
    top="$c${1#/}"
    [ -d "$top" ] || continue
    for i in 1 2 3 4 5 6 7 8 9 10; do
      local pids
      pids="$(find "$top" -name cgroup.procs -exec cat {} + 2>/dev/null)"
      [ -z "$pids" ] && break
      for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
      sleep 0.3
    done
    find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}

# --- kernel tunables the kubelet changes: saved once for concurrent runs (test/e2e/kubelet/host.ts) --
TUNABLES_DIR=/tmp/nodelet-kubelet-sysctls
TUNABLES=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes)
guard_tunables() {
  mkdir -p "$TUNABLES_DIR"
  if [ ! -f "$TUNABLES_DIR/original.json" ]; then
    local t json="{" sep=""
    for t in "${TUNABLES[@]}"; do
      json="$json$sep\"$t\":\"$(cat "/proc/sys/$t")\""
      sep=","
    done
    echo "$json}" >"$TUNABLES_DIR/original.json"
  fi
  echo $$ >"$TUNABLES_DIR/holder-cluster-$TAG"
}
release_tunables() {
  [ -f "$TUNABLES_DIR/holder-cluster-$TAG" ] || return 0
  rm -f "$TUNABLES_DIR/holder-cluster-$TAG"
  ls "$TUNABLES_DIR" | grep -q '^holder-' && return 0
  if [ -f "$TUNABLES_DIR/original.json" ]; then
    node -e '
      const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      for (const [t, v] of Object.entries(o)) require("fs").writeFileSync("/proc/sys/" + t, v);
    ' "$TUNABLES_DIR/original.json"
  fi
  rm -rf "$TUNABLES_DIR"
}

# --- the slot: which 10.250.<slot>.0/24 and 10.244.<16*slot>.0/20 this cluster owns --------------------
claim_slot() {
  mkdir -p "$SLOTS"
  exec 8>"$SLOTS/.lock"
  flock 8
  local s owner
  for s in $(seq 0 15); do
    if [ -f "$SLOTS/$s" ]; then
      owner="$(cat "$SLOTS/$s")"
      [ -d "$owner" ] && continue
      rm -f "$SLOTS/$s" # its cluster's directory is gone: a run that was killed
    fi
    ip -4 addr show | grep -q "inet 10\.250\.$s\." && continue
    ip -4 route show | grep -qE "^10\.244\.$((16 * s))\.|^10\.250\.$s\." && continue
    echo "$DIR" >"$SLOTS/$s"
    SLOT=$s
    flock -u 8
    exec 8>&-
    return 0
  done
  die "no free cluster slot (16 clusters at most on one machine): run scripts/cluster.sh down on an old one"
}

# --- images ---------------------------------------------------------------------------------------
# The e2e images (agnhost, busybox, pause, nginx, CoreDNS, ...) when their build script is there,
# else the critest fixtures (busybox, pause): enough for nodes to come up. NODELET_CLUSTER_IMAGES
# names another docker-registry storage directory to serve instead.
registry_storage() {
  local out="${NODELET_CLUSTER_IMAGES:-}"
  [ -n "$out" ] && { echo "$out"; return 0; }
  if [ -x scripts/fixtures/build-e2e-images.sh ]; then
    out="$(scripts/fixtures/build-e2e-images.sh | tail -1)" ||
      { log "cannot build the e2e images: using the critest fixtures (busybox, pause; no CoreDNS)"; out=""; }
  fi
  [ -n "$out" ] || out="$(scripts/fixtures/build-images.sh | tail -1)" || return 1
  [ -d "$out/registry" ] && out="$out/registry"
  echo "$out"
}

# The newest tag of a repository in the registry storage (empty if the repository is missing).
storage_tag() {
  local dir="$DIR/registry/docker/registry/v2/repositories/$1/_manifests/tags"
  [ -d "$dir" ] && ls "$dir" | sort -V | tail -1
}

# --- per-node files ------------------------------------------------------------------------------
pod_cidr() { echo "10.244.$((16 * SLOT + $1)).0/24"; }
node_ip() { echo "10.250.$SLOT.$((10 + $1))"; }
node_name() { echo "nodelet-$TAG-n$1"; }
netns() { echo "nlc$TAG-n$1"; }

# The CNI network of a node: a bridge in the node's namespace on its pod CIDR, with a default route
# for the pods through the bridge (the node routes the rest: other nodes' pods, services by kube-proxy).
write_conflist() {
  local n="$1" dir="$2"
  mkdir -p "$dir/net.d"
  cat >"$dir/net.d/10-cluster.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "cluster",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/ipam",
        "ranges": [[{ "subnet": "$(pod_cidr "$n")" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

start_nodelet() { # start_nodelet N: a nodelet daemon in node N's namespace
  local n="$1" nd="$DIR/nodes/n$1" mirror="[\"http://$API_IP:$REGISTRY_PORT\"]"
  write_conflist "$n" "$nd/cni"
  cat >"$nd/nodelet.yaml" <<EOF
cgroupParent: /nodelet-cluster-$TAG/n$n-runtime
cniConfDir: $nd/cni/net.d
cniBridge: cni0
podCidr: $(pod_cidr "$n")
metricsAddress: ""
registry:
  insecureRegistries: ["$API_IP:$REGISTRY_PORT"]
  mirrors:
    registry.k8s.io: $mirror
    k8s.gcr.io: $mirror
    gcr.io: $mirror
    docker.io: $mirror
    quay.io: $mirror
    public.ecr.aws: $mirror
EOF
  spawn "n$n-nodelet" "$(netns "$n")" -- node "$ROOT/dist/cli/main.js" daemon --config "$nd/nodelet.yaml" \
    --state-dir "$nd/nodelet/state" --run-dir "$nd/nodelet/run"
  echo "unix://$nd/nodelet/run/nodelet.sock" >"$nd/endpoint"
  wait_for 60 "the nodelet daemon of node $n" test -S "$nd/nodelet/run/nodelet.sock" ||
    die "the nodelet daemon of node $n did not start: see $DIR/logs/n$n-nodelet.log"
}

start_containerd() { # start_containerd N: containerd + runc in node N's namespace
  local n="$1" nd="$DIR/nodes/n$1" sock="$DIR/nodes/n$1/containerd/containerd.sock" reg host
  local pause="registry.k8s.io/pause:$(storage_tag pause)"
  write_conflist "$n" "$nd/cni"
  mkdir -p "$nd/containerd"
  {
    sed -e "s|@ROOT@|$nd/containerd/root|" -e "s|@STATE@|$nd/containerd/state|" -e "s|@SOCKET@|$sock|" \
      -e "s|@SANDBOX_IMAGE@|$pause|" -e "s|@CNI_CONF_DIR@|$nd/cni/net.d|" scripts/cluster/containerd.toml
    for host in registry.k8s.io k8s.gcr.io gcr.io docker.io quay.io public.ecr.aws; do
      echo "  [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"$host\"]"
      echo "    endpoint = [\"http://$API_IP:$REGISTRY_PORT\"]"
    done
  } >"$nd/containerd/config.toml"
  spawn "n$n-containerd" "$(netns "$n")" -- containerd --config "$nd/containerd/config.toml"
  echo "unix://$sock" >"$nd/endpoint"
  wait_for 60 "containerd of node $n" crictl --runtime-endpoint "unix://$sock" version ||
    die "containerd of node $n did not start: see $DIR/logs/n$n-containerd.log"
}

start_kubelet() { # start_kubelet N: the upstream kubelet of node N
  local n="$1" nd="$DIR/nodes/n$1" endpoint
  endpoint="$(cat "$nd/endpoint")"
  mkdir -p "$nd/kubelet/root" "$nd/kubelet/manifests" "$nd/kubelet/pki" "$nd/pod-logs"
  make_cgroup "/nodelet-cluster-$TAG/n$n"
  cat >"$nd/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: $endpoint
imageServiceEndpoint: $endpoint
staticPodPath: $nd/kubelet/manifests
podLogsDir: $nd/pod-logs
cgroupRoot: /nodelet-cluster-$TAG/n$n
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
address: $(node_ip "$n")
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
clusterDNS: ["$DNS_IP"]
clusterDomain: cluster.local
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: "$DIR/pki/ca.crt" }
authorization: { mode: Webhook }
evictionHard: { memory.available: "1Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
makeIPTablesUtilChains: false
nodeStatusReportFrequency: 10s
EOF
  issue "node-n$n" "system:node:$(node_name "$n")" system:nodes
  kubeconfig "node-n$n"
  spawn "n$n-kubelet" "$(netns "$n")" -- "$TOOLS/nodelet-kubelet" --config="$nd/kubelet/config.yaml" \
    --root-dir="$nd/kubelet/root" --cert-dir="$nd/kubelet/pki" --hostname-override="$(node_name "$n")" \
    --node-ip="$(node_ip "$n")" --kubeconfig="$DIR/kubeconfigs/node-n$n.yaml" --v=2
}

start_agent() { # start_agent N: nodelet agent of node N, connected to the API server
  local n="$1" nd="$DIR/nodes/n$1"
  mkdir -p "$nd/agent" "$nd/pod-logs"
  make_cgroup "/nodelet-cluster-$TAG/n$n"
  issue "node-n$n" "system:node:$(node_name "$n")" system:nodes
  kubeconfig "node-n$n"
  spawn "n$n-agent" "$(netns "$n")" -- node "$ROOT/dist/cli/main.js" agent \
    --kubeconfig "$DIR/kubeconfigs/node-n$n.yaml" --container-runtime-endpoint "$(cat "$nd/endpoint")" \
    --hostname-override "$(node_name "$n")" --node-ip "$(node_ip "$n")" --root-dir "$nd/agent" \
    --pod-logs-dir "$nd/pod-logs" --cgroup-root "/nodelet-cluster-$TAG/n$n" \
    --address "$(node_ip "$n")" --port 10250 --client-ca-file "$DIR/pki/ca.crt" \
    --cluster-dns "$DNS_IP" --cluster-domain cluster.local
}

start_kube_proxy() { # start_kube_proxy N: kube-proxy in iptables mode in node N's namespace
  local n="$1" nd="$DIR/nodes/n$1"
  # The conntrack settings are the host's, not the namespace's: kube-proxy leaves them alone.
  cat >"$nd/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: "$DIR/kubeconfigs/kube-proxy.yaml" }
hostnameOverride: $(node_name "$n")
bindAddress: $(node_ip "$n")
mode: iptables
clusterCIDR: 10.244.$((16 * SLOT)).0/20
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
  spawn "n$n-kube-proxy" "$(netns "$n")" -- "$TOOLS/nodelet-kube-proxy" --config="$nd/kube-proxy.yaml" --v=2
}

# The network of node N: its namespace, a veth to the cluster bridge, routes to the other nodes'
# pods (and from the host to its pods), forwarding and bridged traffic through iptables.
make_node_network() {
  local n="$1" ns m
  ns="$(netns "$n")"
  ip netns add "$ns" || die "cannot create the network namespace $ns"
  echo "$ns" >>"$DIR/state/netns"
  ip link add "nlc${TAG}v$n" type veth peer name eth0 netns "$ns" || die "cannot create the veth of node $n"
  ip link set "nlc${TAG}v$n" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$(node_ip "$n")/24" dev eth0
  ip -n "$ns" link set eth0 up
  # Services are DNATed by kube-proxy; host-network clients need a route to start from.
  ip -n "$ns" route add "$SERVICE_CIDR" dev eth0 src "$(node_ip "$n")"
  for m in $(seq 1 "$NODES"); do
    [ "$m" = "$n" ] || ip -n "$ns" route add "$(pod_cidr "$m")" via "$(node_ip "$m")"
  done
  ip route add "$(pod_cidr "$n")" via "$(node_ip "$n")" dev "$BRIDGE"
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null ||
    log "node $n: no br_netfilter in its namespace: a pod reaching a service on its own node may fail"
}

# --- control plane --------------------------------------------------------------------------------
start_control_plane() {
  local etcd_client etcd_peer
  etcd_client="$(free_port)"
  etcd_peer="$(free_port)"
  spawn etcd "" -- "$TOOLS/nodelet-etcd" --name=default --data-dir="$DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$etcd_client" --advertise-client-urls="http://127.0.0.1:$etcd_client" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-cluster="default=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync=true --listen-metrics-urls=

  openssl genrsa -out "$DIR/pki/service-account.key" 2048 2>/dev/null
  issue apiserver kube-apiserver "" \
    "IP:$API_IP,IP:10.96.0.1,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  issue apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  issue front-proxy-client front-proxy-client
  spawn kube-apiserver "" -- "$TOOLS/nodelet-kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_client" \
    --bind-address="$API_IP" --advertise-address="$API_IP" --secure-port="$APISERVER_PORT" \
    --cert-dir="$DIR/apiserver-certs" --tls-cert-file="$DIR/pki/apiserver.crt" \
    --tls-private-key-file="$DIR/pki/apiserver.key" --client-ca-file="$DIR/pki/ca.crt" \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$DIR/pki/service-account.key" \
    --service-account-signing-key-file="$DIR/pki/service-account.key" \
    --kubelet-client-certificate="$DIR/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$DIR/pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --enable-aggregator-routing=true \
    --requestheader-client-ca-file="$DIR/pki/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$DIR/pki/front-proxy-client.crt" --proxy-client-key-file="$DIR/pki/front-proxy-client.key"

  issue admin admin system:masters
  issue kube-controller-manager system:kube-controller-manager
  issue kube-scheduler system:kube-scheduler
  issue kube-proxy system:kube-proxy
  local name
  for name in admin kube-controller-manager kube-scheduler kube-proxy; do kubeconfig "$name"; done
  wait_for 120 "the API server" kc get --raw /readyz ||
    die "the API server did not become ready: see $DIR/logs/kube-apiserver.log"
  wait_for 60 "the default namespaces" kc get namespace default kube-node-lease kube-system

  spawn kube-controller-manager "" -- "$TOOLS/nodelet-kube-controller-manager" \
    --kubeconfig="$DIR/kubeconfigs/kube-controller-manager.yaml" \
    --authentication-kubeconfig="$DIR/kubeconfigs/kube-controller-manager.yaml" \
    --authorization-kubeconfig="$DIR/kubeconfigs/kube-controller-manager.yaml" \
    --bind-address=127.0.0.1 --secure-port="$(free_port)" --leader-elect=false \
    --use-service-account-credentials=true --controllers='*,bootstrapsigner,tokencleaner' \
    --service-account-private-key-file="$DIR/pki/service-account.key" --root-ca-file="$DIR/pki/ca.crt" \
    --cluster-signing-cert-file="$DIR/pki/ca.crt" --cluster-signing-key-file="$DIR/pki/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --cluster-cidr="10.244.$((16 * SLOT)).0/20" \
    --allocate-node-cidrs=false --node-monitor-grace-period=40s
  spawn kube-scheduler "" -- "$TOOLS/nodelet-kube-scheduler" \
    --kubeconfig="$DIR/kubeconfigs/kube-scheduler.yaml" \
    --authentication-kubeconfig="$DIR/kubeconfigs/kube-scheduler.yaml" \
    --authorization-kubeconfig="$DIR/kubeconfigs/kube-scheduler.yaml" \
    --bind-address=127.0.0.1 --secure-port="$(free_port)" --leader-elect=false
}

# Nodes are made by the cluster with their pod CIDR already set (the kubelet and the agent adopt a
# Node that exists), so each node's CNI network is written before its runtime starts.
create_node_objects() {
  local n
  for n in $(seq 1 "$NODES"); do
    kc apply -f - >/dev/null <<EOF || die "cannot create the Node $(node_name "$n")"
apiVersion: v1
kind: Node
metadata:
  name: $(node_name "$n")
  labels: { kubernetes.io/hostname: $(node_name "$n"), kubernetes.io/os: linux }
spec:
  podCIDR: $(pod_cidr "$n")
  podCIDRs: ["$(pod_cidr "$n")"]
EOF
  done
}

deploy_coredns() {
  local tag
  tag="$(storage_tag coredns/coredns)"
  if [ -z "$tag" ]; then
    log "no CoreDNS image in the registry (scripts/fixtures/build-e2e-images.sh builds one): no cluster DNS"
    return 0
  fi
  sed -e "s|@IMAGE@|registry.k8s.io/coredns/coredns:$tag|" -e "s|@DNS_IP@|$DNS_IP|" \
    scripts/cluster/coredns.yaml | kc apply -f - >/dev/null || die "cannot deploy CoreDNS"
}

nodes_ready() {
  local ready
  ready="$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)"
  [ "$ready" -eq "$NODES" ]
}

# kubectl on PATH, ahead of any other (install-kube-tools.sh links it too; a machine may have an
# older kubectl in /usr/bin).
ensure_kubectl() {
  [ -e /usr/local/bin/kubectl ] || ln -s "$KUBECTL" /usr/local/bin/kubectl
}

# Every kubelet takes 7 inotify instances (cAdvisor, its config and certificate watchers), the API
# server 6, the controller manager 5, each kube-proxy 1; a kubelet that cannot get one never gets
# Ready. The limit is per user, shared with every other cluster and program of root on the machine.
check_inotify() {
  local max used per_node=1 need
  max="$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null)" || return 0
  used="$(find /proc/[0-9]*/fd -lname 'anon_inode:inotify' 2>/dev/null | wc -l)"
  case "$KIND" in kubelet) per_node=8 ;; kubelet-containerd) per_node=9 ;; esac
  need=$((11 + NODES * per_node))
  [ $((max - used)) -ge "$need" ] && return 0
  die "$NODES $KIND node(s) need about $need inotify instances; $used of fs.inotify.max_user_instances=$max are in use (other clusters?). Bring one down, or raise the limit: sysctl fs.inotify.max_user_instances=$((used + need))"
}

up() {
  local n
  [ -f "$ROOT/dist/cli/main.js" ] || [ "$KIND" = kubelet-containerd ] || die "build nodelet first: npm run build"
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy; do
    [ -x "$TOOLS/nodelet-$b" ] || die "missing $TOOLS/nodelet-$b: run scripts/install-kube-tools.sh"
  done
  ensure_kubectl
  check_inotify
  DIR="${DIR:-$(mktemp -d /tmp/nodelet-cluster.XXXXXX)}"
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  [ -f "$DIR/state/tag" ] && die "$DIR already holds a cluster: scripts/cluster.sh down --dir $DIR first"
  mkdir -p "$DIR"/{state,pids,logs,pki,kubeconfigs,nodes}
  TAG="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  echo "$TAG" >"$DIR/state/tag"
  trap on_up_exit EXIT
  echo "$KIND" >"$DIR/state/kind"
  echo "$NODES" >"$DIR/state/nodes"
  claim_slot
  echo "$SLOT" >"$DIR/state/slot"
  BRIDGE="nlc$TAG"
  API_IP="10.250.$SLOT.1"
  echo "$BRIDGE" >"$DIR/state/bridge"
  log "cluster $TAG in $DIR: $NODES $KIND node(s), API server https://$API_IP:$APISERVER_PORT"

  ip link add "$BRIDGE" type bridge || die "cannot create the bridge $BRIDGE"
  ip addr add "$API_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for n in $(seq 1 "$NODES"); do make_node_network "$n"; done

  local storage
  storage="$(registry_storage)" || die "cannot build the images"
  cp -rl "$storage" "$DIR/registry" 2>/dev/null || cp -r "$storage" "$DIR/registry"
  cat >"$DIR/registry.yml" <<EOF
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $DIR/registry }, maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: true } } }
http: { addr: "$API_IP:$REGISTRY_PORT" }
EOF
  spawn registry "" -- /usr/bin/docker-registry serve "$DIR/registry.yml"

  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=nodelet-cluster-$TAG" \
    -keyout "$DIR/pki/ca.key" -out "$DIR/pki/ca.crt" 2>/dev/null
  start_control_plane
  create_node_objects
  guard_tunables
  for n in $(seq 1 "$NODES"); do
    mkdir -p "$DIR/nodes/n$n"
    case "$KIND" in
    kubelet) start_nodelet "$n" && start_kubelet "$n" ;;
    kubelet-containerd) start_containerd "$n" && start_kubelet "$n" ;;
    agent) start_nodelet "$n" && start_agent "$n" ;;
    esac
    start_kube_proxy "$n"
  done
  deploy_coredns
  wait_for 180 "every node Ready" nodes_ready || {
    kc get nodes -o wide >&2
    die "the nodes did not become Ready: see the logs in $DIR/logs"
  }
  if [ -n "$(storage_tag coredns/coredns)" ]; then
    kc -n kube-system rollout status deployment/coredns --timeout=180s >&2 ||
      log "CoreDNS did not become ready: see kubectl -n kube-system describe pods"
  fi
  kc get nodes -o wide >&2
  UP_DONE=1
  echo "KUBECONFIG=$DIR/kubeconfigs/admin.yaml"
}

# --- down -----------------------------------------------------------------------------------------
remove_runtime_pods() { # remove_runtime_pods N: every pod of node N's runtime, through the CRI
  local endpoint="$DIR/nodes/n$1/endpoint"
  [ -f "$endpoint" ] || return 0
  endpoint="$(cat "$endpoint")"
  [ -S "${endpoint#unix://}" ] || return 0
  timeout 120 crictl --runtime-endpoint "$endpoint" --timeout 60s rmp -fa >/dev/null 2>&1
}

stop_monitor() { # the nodelet monitor outlives its daemon by design: ask it to stop with its containers
  local sock="$DIR/nodes/n$1/nodelet/run/monitor.sock"
  [ -S "$sock" ] || return 0
  node -e '
    const net = require("net"), sock = process.argv[1];
    const c = net.createConnection({ path: sock }, () =>
      c.write(JSON.stringify({ v: 1, id: 1, op: "shutdown", params: { killContainers: true } }) + "\n"));
    c.on("data", () => c.end()); c.on("error", () => {}); setTimeout(() => process.exit(0), 15000).unref();
  ' "$sock" 2>/dev/null
}

down() {
  [ -n "${DIR:-}" ] || usage
  [ -d "$DIR" ] || { log "$DIR does not exist: nothing to do"; return 0; }
  DIR="$(cd "$DIR" && pwd)"
  if [ ! -f "$DIR/state/tag" ]; then
    log "$DIR holds no cluster: nothing to do"
    return 0
  fi
  TAG="$(cat "$DIR/state/tag")"
  NODES="$(cat "$DIR/state/nodes" 2>/dev/null || echo 0)"
  SLOT="$(cat "$DIR/state/slot" 2>/dev/null || echo)"
  local n name
  for n in $(seq 1 "$NODES"); do
    # The node agents first, so nothing restarts what is removed next.
    stop_process "n$n-kubelet" 30
    stop_process "n$n-agent" 30
    stop_process "n$n-kube-proxy"
  done
  for n in $(seq 1 "$NODES"); do
    remove_runtime_pods "$n"
    stop_process "n$n-nodelet" 30
    stop_monitor "$n"
    stop_process "n$n-containerd" 30
    # containerd's shims outlive it: those of this node name its socket on their command line.
    local sock="$DIR/nodes/n$n/containerd/containerd.sock" pid
    for pid in $(pgrep -f "containerd-shim.*-address $sock" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  # Then whatever else up started, newest first.
  if [ -f "$DIR/pids/order" ]; then
    for name in $(tac "$DIR/pids/order"); do stop_process "$name"; done
  fi
  remove_cgroup "/nodelet-cluster-$TAG"
  # Mounts under DIR (overlay roots, pinned namespaces, the kubelet's volumes), deepest first.
  local m
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^$DIR(/|$)" | sort -r); do umount -l "$m" 2>/dev/null; done
  if [ -f "$DIR/state/netns" ]; then
    while read -r ns; do ip netns delete "$ns" 2>/dev/null; done <"$DIR/state/netns"
  fi
  [ -f "$DIR/state/bridge" ] && ip link delete "$(cat "$DIR/state/bridge")" 2>/dev/null
  # The kubelet links each container's log into the fixed /var/log/containers.
  if [ -d /var/log/containers ]; then
    find /var/log/containers -maxdepth 1 -type l -lname "$DIR/*" -delete 2>/dev/null
  fi
  release_tunables
  if [ -n "$SLOT" ] && [ -f "$SLOTS/$SLOT" ] && [ "$(cat "$SLOTS/$SLOT")" = "$DIR" ]; then rm -f "$SLOTS/$SLOT"; fi
  rm -rf "$DIR"
  log "cluster $TAG removed"
}

# --- main -----------------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run as root: nodes are network namespaces, containers need namespaces and cgroups"
CMD="${1:-}"
[ -n "$CMD" ] || usage
shift
NODES=2 KIND=agent DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
  --nodes) NODES="${2:-}" && shift 2 ;;
  --node-kind) KIND="${2:-}" && shift 2 ;;
  --dir) DIR="${2:-}" && shift 2 ;;
  *) usage ;;
  esac
done
case "$KIND" in agent | kubelet | kubelet-containerd) ;; *) die "unknown node kind '$KIND': agent, kubelet or kubelet-containerd" ;; esac
[[ "$NODES" =~ ^[0-9]+$ ]] && [ "$NODES" -ge 1 ] && [ "$NODES" -le 15 ] || die "--nodes must be 1 to 15, not '$NODES'"
case "$CMD" in
up) up ;;
down) down ;;
*) usage ;;
esac
