package rseq

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// numaTopology is the machine's NUMA layout as sysfs shows it: the number
// of online nodes, and the node of each possible CPU. Where sysfs is
// missing (other OSes, some containers) there are 0 nodes and no CPU has a
// node, so nothing is placed.
type numaTopology struct {
	nodes   int   // online nodes (/sys/devices/system/node/online); 0 if unknown
	maxNode int   // the highest online node id, -1 if none
	cpuNode []int // cpuNode[cpu]: the node of possible CPU cpu, -1 if unknown
}

// numaTopo is this machine's topology, read on first use.
var numaTopo = sync.OnceValue(func() numaTopology {
	return readNUMA("/sys", PossibleCPUs())
})

// readNUMAOnline returns the online nodes listed in
// <root>/devices/system/node/online, nil if it cannot be read.
func readNUMAOnline(root string) []int {
	b, err := os.ReadFile(filepath.Join(root, "devices/system/node/online"))
	if err != nil {
		return nil
	}
	nodes, ok := expandList(strings.TrimSpace(string(b)))
	if !ok {
		return nil
	}
	return nodes
}

// readNUMA reads the topology of ncpu possible CPUs from a sysfs tree
// mounted at root: each online node's cpulist
// (<root>/devices/system/node/nodeM/cpulist, which lists the node's online
// CPUs), then, for CPUs no list named (offline ones), the nodeM link in
// <root>/devices/system/cpu/cpuN. The per-CPU look-ups are made only when
// there are several nodes: with one node nothing is placed anyway.
func readNUMA(root string, ncpu int) numaTopology {
	t := numaTopology{maxNode: -1, cpuNode: make([]int, max(ncpu, 0))}
	for i := range t.cpuNode {
		t.cpuNode[i] = -1
	}
	online := readNUMAOnline(root)
	t.nodes = len(online)
	for _, node := range online {
		t.maxNode = max(t.maxNode, node)
		b, err := os.ReadFile(filepath.Join(root, "devices/system/node", "node"+strconv.Itoa(node), "cpulist"))
		if err != nil {
			continue
		}
		cpus, ok := expandList(strings.TrimSpace(string(b)))
		if !ok {
			continue
		}
		for _, cpu := range cpus {
			if cpu < len(t.cpuNode) {
				t.cpuNode[cpu] = node
			}
		}
	}
	if t.nodes < 2 {
		return t
	}
	for cpu, node := range t.cpuNode {
		if node >= 0 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(root, "devices/system/cpu", "cpu"+strconv.Itoa(cpu)))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if n, ok := strings.CutPrefix(e.Name(), "node"); ok {
				if v, err := strconv.Atoi(n); err == nil && v >= 0 && v <= t.maxNode {
					t.cpuNode[cpu] = v
					break
				}
			}
		}
	}
	return t
}

// expandList expands a sysfs list such as "0-3,8,10-11" into its numbers,
// in the order written. An empty list is valid (no numbers); ok is false
// if the list cannot be parsed.
func expandList(s string) (list []int, ok bool) {
	const limit = 1 << 16 // more ids than any kernel has: a corrupt range
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, false
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, false
			}
		}
		if b-a+len(list) > limit {
			return nil, false
		}
		for v := a; v <= b; v++ {
			list = append(list, v)
		}
	}
	return list, true
}
