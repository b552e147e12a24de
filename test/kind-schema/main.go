// Command kind-schema checks a kind cluster configuration offline, the way `kind create cluster
// --config` reads it: apiVersion and kind first, then a strict decode of kind's own v1alpha4 Go
// types (an unknown field is an error), kind's defaults, and the checks of kind's internal
// Validate() that do not need Docker. kind's loader is internal to sigs.k8s.io/kind, so its steps
// are repeated here with the same YAML library. On success it prints what the test needs to check
// against the repository (each node's mounts and patches) as JSON; on failure it exits 1.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

type typeMeta struct {
	Kind       string `yaml:"kind,omitempty"`
	APIVersion string `yaml:"apiVersion,omitempty"`
}

type mountSummary struct {
	HostPath      string `json:"hostPath"`
	ContainerPath string `json:"containerPath"`
	ReadOnly      bool   `json:"readOnly"`
}

type nodeSummary struct {
	Role            string            `json:"role"`
	Image           string            `json:"image"`
	Labels          map[string]string `json:"labels"`
	ExtraMounts     []mountSummary    `json:"extraMounts"`
	PatchKinds      []string          `json:"patchKinds"`
	PatchesJSON6902 int               `json:"patchesJSON6902"`
}

// Same pattern as kind's validNameRE (pkg/internal/apis/config/validate.go).
var validName = regexp.MustCompile(`^[a-z0-9.-]+$`)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kind-schema: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: kind-schema <kind-config.yaml>")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("cannot read %s: %v", os.Args[1], err)
	}
	var tm typeMeta
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		fail("cannot determine kind / apiVersion: %v", err)
	}
	if tm.APIVersion != "kind.x-k8s.io/v1alpha4" || tm.Kind != "Cluster" {
		fail("expected apiVersion kind.x-k8s.io/v1alpha4 and kind Cluster, got %q %q", tm.APIVersion, tm.Kind)
	}
	var cluster v1alpha4.Cluster
	decoder := yaml.NewDecoder(bytes.NewReader(raw))
	decoder.KnownFields(true)
	if err := decoder.Decode(&cluster); err != nil {
		fail("invalid v1alpha4 Cluster: %v", err)
	}
	v1alpha4.SetDefaultsCluster(&cluster)
	if cluster.Name != "" && !validName.MatchString(cluster.Name) {
		fail("%q is not a valid cluster name", cluster.Name)
	}
	controlPlanes := 0
	nodes := []nodeSummary{}
	for i, n := range cluster.Nodes {
		switch n.Role {
		case v1alpha4.ControlPlaneRole:
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			fail("node %d: %q is not a valid node role", i, n.Role)
		}
		summary := nodeSummary{Role: string(n.Role), Image: n.Image, Labels: n.Labels,
			ExtraMounts: []mountSummary{}, PatchKinds: []string{}, PatchesJSON6902: len(n.KubeadmConfigPatchesJSON6902)}
		for _, m := range n.ExtraMounts {
			summary.ExtraMounts = append(summary.ExtraMounts, mountSummary{m.HostPath, m.ContainerPath, m.Readonly})
		}
		for j, p := range n.KubeadmConfigPatches {
			var patch typeMeta
			if err := yaml.Unmarshal([]byte(p), &patch); err != nil || patch.Kind == "" {
				fail("node %d: kubeadmConfigPatches[%d] is not a YAML document with a kind (%v)", i, j, err)
			}
			summary.PatchKinds = append(summary.PatchKinds, patch.Kind)
		}
		nodes = append(nodes, summary)
	}
	if controlPlanes < 1 {
		fail("must have at least one control-plane node")
	}
	out, _ := json.Marshal(map[string]any{"name": cluster.Name, "nodes": nodes})
	fmt.Println(string(out))
}
