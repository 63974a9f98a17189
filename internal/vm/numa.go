package main

import (
	"fmt"
	"strconv"
	"strings"
)

// numaArgs returns the qemu arguments that split smp CPUs and memory (a
// qemu -m size: a number of MiB, or with an M, G or T suffix) over nodes
// NUMA nodes: node i gets CPUs [i*smp/nodes, (i+1)*smp/nodes) and an equal
// share of the memory, each share its own RAM backend. nodes 0 means no
// NUMA topology (no arguments).
func numaArgs(smp, nodes int, memory string) ([]string, error) {
	if nodes == 0 {
		return nil, nil
	}
	if nodes < 0 || nodes > smp {
		return nil, fmt.Errorf("-numa %d: want 1 to -smp (%d) nodes, each with a CPU", nodes, smp)
	}
	mib, err := memoryMiB(memory)
	if err != nil {
		return nil, err
	}
	if mib%nodes != 0 {
		return nil, fmt.Errorf("-numa %d: memory %s (%d MiB) does not divide into %d equal nodes", nodes, memory, mib, nodes)
	}
	var args []string
	for i := 0; i < nodes; i++ {
		lo, hi := i*smp/nodes, (i+1)*smp/nodes-1
		args = append(args,
			"-object", fmt.Sprintf("memory-backend-ram,id=m%d,size=%dM", i, mib/nodes),
			"-numa", fmt.Sprintf("node,nodeid=%d,cpus=%d-%d,memdev=m%d", i, lo, hi, i))
	}
	return args, nil
}

// memoryMiB parses a qemu -m size into MiB.
func memoryMiB(s string) (int, error) {
	mult := 1
	num := s
	switch {
	case strings.HasSuffix(s, "M"):
		num = s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		num, mult = s[:len(s)-1], 1024
	case strings.HasSuffix(s, "T"):
		num, mult = s[:len(s)-1], 1024*1024
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("memory size %q: want a whole number of MiB, or with an M, G or T suffix", s)
	}
	return n * mult, nil
}
