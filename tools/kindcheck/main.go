// kindcheck validates a kind cluster configuration the way `kind create cluster --config` reads it:
// with kind's own v1alpha4 types and sigs.k8s.io/yaml's UnmarshalStrict, so an unknown or misspelt
// field is an error. It then applies kind's defaults, repeats the checks of kind's (internal)
// validation that matter for a config file, and prints the result as JSON for tests to inspect.
//
//	kindcheck kind-config.yaml
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kindcheck <kind-config.yaml>")
		os.Exit(2)
	}
	cluster, err := load(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(cluster); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func load(path string) (*v1alpha4.Cluster, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// kind first reads only the type meta to pick the API version; anything but v1alpha4 is refused.
	var meta struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	if meta.APIVersion != "kind.x-k8s.io/v1alpha4" || meta.Kind != "Cluster" {
		return nil, fmt.Errorf("want apiVersion kind.x-k8s.io/v1alpha4 and kind Cluster, got %q %q", meta.APIVersion, meta.Kind)
	}
	cluster := &v1alpha4.Cluster{}
	if err := yaml.UnmarshalStrict(raw, cluster); err != nil {
		return nil, fmt.Errorf("invalid kind config: %w", err)
	}
	v1alpha4.SetDefaultsCluster(cluster)
	return cluster, validate(cluster)
}

// validate mirrors the parts of kind's internal Cluster.Validate that a config file can get wrong.
func validate(c *v1alpha4.Cluster) error {
	controlPlanes := 0
	type hostPort struct {
		address, protocol string
		port              int32
	}
	seen := map[hostPort]bool{}
	for i, node := range c.Nodes {
		switch node.Role {
		case v1alpha4.ControlPlaneRole:
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			return fmt.Errorf("nodes[%d]: unknown role %q", i, node.Role)
		}
		for j, m := range node.ExtraPortMappings {
			if m.ContainerPort < 0 || m.ContainerPort > 65535 || m.HostPort < -1 || m.HostPort > 65535 {
				return fmt.Errorf("nodes[%d].extraPortMappings[%d]: port out of range", i, j)
			}
			switch m.Protocol {
			case v1alpha4.PortMappingProtocolTCP, v1alpha4.PortMappingProtocolUDP, v1alpha4.PortMappingProtocolSCTP:
			default:
				return fmt.Errorf("nodes[%d].extraPortMappings[%d]: unknown protocol %q", i, j, m.Protocol)
			}
			key := hostPort{m.ListenAddress, string(m.Protocol), m.HostPort}
			if m.HostPort > 0 && seen[key] {
				return fmt.Errorf("nodes[%d].extraPortMappings[%d]: host port %d mapped twice", i, j, m.HostPort)
			}
			seen[key] = true
		}
	}
	if controlPlanes == 0 {
		return fmt.Errorf("needs at least one control-plane node")
	}
	return nil
}
