// The static pods of the standalone test: what a node runs every day, in small.
export const BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';

/** An init container and two containers sharing an emptyDir; the writer has resource limits. */
export const webPod = `
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: default }
spec:
  terminationGracePeriodSeconds: 5
  volumes:
    - { name: shared, emptyDir: {} }
  initContainers:
    - name: init
      image: ${BUSYBOX}
      command: ["sh", "-c", "echo made-by-init > /shared/init.txt"]
      volumeMounts: [{ name: shared, mountPath: /shared }]
  containers:
    - name: writer
      image: ${BUSYBOX}
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do date > /shared/now; sleep 1; done"]
      volumeMounts: [{ name: shared, mountPath: /shared }]
      resources:
        requests: { cpu: 100m, memory: 32Mi }
        limits: { cpu: 250m, memory: 64Mi }
    - name: reader
      image: ${BUSYBOX}
      command: ["sh", "-c", "trap 'exit 0' TERM; cat /shared/init.txt; while ! test -s /shared/now; do sleep 1; done; echo saw-writer; while true; do sleep 1; done"]
      volumeMounts: [{ name: shared, mountPath: /shared }]
`;

/** A container whose liveness probe always fails, and one that exits 1 a second after it starts. */
export const crashyPod = `
apiVersion: v1
kind: Pod
metadata: { name: crashy, namespace: default }
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: unhealthy
      image: ${BUSYBOX}
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
      livenessProbe:
        exec: { command: ["cat", "/tmp/healthy"] }
        periodSeconds: 2
        failureThreshold: 1
    - name: crasher
      image: ${BUSYBOX}
      command: ["sh", "-c", "echo going-down; sleep 1; exit 1"]
`;

/** busybox httpd on the host's network namespace, on a port the test picked. */
export const hostnetPod = (port: number) => `
apiVersion: v1
kind: Pod
metadata: { name: hostnet, namespace: default }
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
    - name: httpd
      image: ${BUSYBOX}
      command: ["sh", "-c", "mkdir -p /www && echo served-from-host-network > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www"]
`;
