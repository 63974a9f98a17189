package rseq

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pageNode returns the node of the page that holds addr, which must be
// mapped and written (get_mempolicy with MPOL_F_NODE|MPOL_F_ADDR).
func pageNode(addr unsafe.Pointer) (int, error) {
	var node int32
	_, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&node)), 0, 0,
		uintptr(addr), mpolFNode|mpolFAddr, 0)
	if e != 0 {
		return -1, e
	}
	return int(node), nil
}

// expectNodes makes TestSlabNUMAPlacement fail, not skip, unless that many
// nodes are online: the VM runs in .ci/run pass -rseq.numa=2, so that a
// guest that lost its NUMA topology cannot pass by skipping.
var expectNodes = flag.Int("rseq.numa", 0, "fail the NUMA placement test unless this many nodes are online")

// TestSlabNUMAPlacement allocates from a default slab on a machine with
// several nodes, touches every block from this one thread (which, under the
// default first-touch policy, would put every page on this thread's node),
// and checks with get_mempolicy that each block's page is on its CPU's node.
func TestSlabNUMAPlacement(t *testing.T) {
	topo := numaTopo()
	if *expectNodes != 0 && topo.nodes != *expectNodes {
		t.Fatalf("%d online nodes, -rseq.numa=%d expected", topo.nodes, *expectNodes)
	}
	switch {
	case raceEnabled:
		t.Skip("race build: slab memory is Go heap, not placed")
	case !slabMapped:
		t.Skip("slab memory is not mmap'd here")
	case topo.nodes < 2:
		t.Skipf("single-node machine (%d online nodes): nothing to place (boot a VM with -numa 2 to test)", topo.nodes)
	}
	if got := ReadInfo().NUMANodes; got != topo.nodes {
		t.Errorf("ReadInfo().NUMANodes = %d, topology has %d", got, topo.nodes)
	}
	withMemory := map[int]bool{}
	for _, n := range readNUMAList(t, "/sys/devices/system/node/has_memory") {
		withMemory[n] = true
	}
	s, err := NewSlab(0, ByCPU)
	if err != nil {
		t.Fatal(err)
	}
	if s.Stride() != pageSize || !s.place {
		t.Fatalf("default slab on %d nodes: stride %d, place %v; want %d, true", topo.nodes, s.Stride(), s.place, pageSize)
	}
	r, err := s.Alloc(1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Free(r)
	c := r.chunk
	if c.placeErr != nil && (errors.Is(c.placeErr, errors.ErrUnsupported) || errors.Is(c.placeErr, fs.ErrPermission)) {
		t.Skipf("mbind refused (%v): placement is best effort", c.placeErr)
	}
	known := 0
	for _, n := range topo.cpuNode[:s.Len()] {
		if n >= 0 {
			known++
		}
	}
	if st := s.Stats(); st.Placed != known || c.placeErr != nil {
		t.Fatalf("%d of %d blocks placed (%d CPUs of known node), mbind: %v", st.Placed, s.Len(), known, c.placeErr)
	}
	checked := 0
	for cpu := 0; cpu < s.Len(); cpu++ {
		*r.word(cpu, 0) = uint64(cpu) + 1 // touch the block's page
		want := topo.cpuNode[cpu]
		if want < 0 {
			continue
		}
		got, err := pageNode(unsafe.Pointer(r.word(cpu, 0)))
		if err != nil {
			t.Fatalf("get_mempolicy of CPU %d's block: %v", cpu, err)
		}
		t.Logf("CPU %d: block %p on node %d (CPU's node %d)", cpu, r.word(cpu, 0), got, want)
		if !withMemory[want] {
			continue // a memoryless node: MPOL_PREFERRED falls back to the nearest
		}
		if got != want {
			t.Errorf("CPU %d's block is on node %d, want node %d", cpu, got, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no block checked")
	}
	t.Logf("%d blocks on %d nodes checked; the test ran on CPU %d, node %d", checked, topo.nodes, CPU(), NodeID())
}

func readNUMAList(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := expandList(strings.TrimSpace(string(b)))
	if !ok {
		t.Fatalf("%s: cannot parse %q", path, b)
	}
	return l
}

// pagePolicy returns the memory policy mode of the mapping that holds addr
// (get_mempolicy with MPOL_F_ADDR): 0 for the default policy.
func pagePolicy(addr unsafe.Pointer) (int, error) {
	var mode int32
	mask := make([]uint64, 16)
	_, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)),
		uintptr(unsafe.Pointer(&mask[0])), uintptr(len(mask)*64), uintptr(addr), mpolFAddr, 0)
	if e != 0 {
		return -1, e
	}
	return int(mode), nil
}

// TestPlaceBlocksRuns: placeBlocks binds runs of CPUs on one node with one
// mbind each, leaves CPUs of unknown node under the default policy, and
// counts the blocks it bound. Node 0 exists everywhere, so this runs on
// one-node machines too.
func TestPlaceBlocksRuns(t *testing.T) {
	page := int(pageSize)
	b, err := unix.Mmap(-1, 0, 5*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	cpuNode := []int{0, 0, -1, 0} // the fifth page belongs to no CPU
	placed, err := placeBlocks(unsafe.Pointer(&b[0]), pageSize, 5, cpuNode)
	if err != nil && (errors.Is(err, errors.ErrUnsupported) || errors.Is(err, fs.ErrPermission)) {
		t.Skipf("mbind refused: %v", err)
	}
	if placed != 3 || err != nil {
		t.Fatalf("placed %d, err %v; want 3, nil", placed, err)
	}
	for i, want := range []int{mpolPreferred, mpolPreferred, 0, mpolPreferred, 0} {
		got, err := pagePolicy(unsafe.Pointer(&b[i*page]))
		if err != nil {
			t.Fatalf("get_mempolicy of page %d: %v", i, err)
		}
		if got != want {
			t.Errorf("page %d: policy mode %d, want %d", i, got, want)
		}
	}
}
