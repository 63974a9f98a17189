package main

import (
	"reflect"
	"testing"
)

func TestNumaArgs(t *testing.T) {
	got, err := numaArgs(4, 2, "1G")
	want := []string{
		"-object", "memory-backend-ram,id=m0,size=512M", "-numa", "node,nodeid=0,cpus=0-1,memdev=m0",
		"-object", "memory-backend-ram,id=m1,size=512M", "-numa", "node,nodeid=1,cpus=2-3,memdev=m1",
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("numaArgs(4, 2, 1G) = %q, %v", got, err)
	}
	got, err = numaArgs(3, 2, "768")
	want = []string{
		"-object", "memory-backend-ram,id=m0,size=384M", "-numa", "node,nodeid=0,cpus=0-0,memdev=m0",
		"-object", "memory-backend-ram,id=m1,size=384M", "-numa", "node,nodeid=1,cpus=1-2,memdev=m1",
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("numaArgs(3, 2, 768) = %q, %v", got, err)
	}
	if got, err := numaArgs(2, 0, "1G"); got != nil || err != nil {
		t.Errorf("no NUMA: %q, %v", got, err)
	}
	for _, c := range []struct {
		smp, nodes int
		mem        string
	}{{2, 3, "1G"}, {2, -1, "1G"}, {3, 3, "1000M"}, {2, 2, "1.5G"}, {2, 2, "lots"}} {
		if _, err := numaArgs(c.smp, c.nodes, c.mem); err == nil {
			t.Errorf("numaArgs(%d, %d, %q) accepted", c.smp, c.nodes, c.mem)
		}
	}
}
