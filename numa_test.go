package rseq

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestExpandList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"", nil, true},
		{"0", []int{0}, true},
		{"0-3", []int{0, 1, 2, 3}, true},
		{"0-1,4,6-7", []int{0, 1, 4, 6, 7}, true},
		{"2,0", []int{2, 0}, true},
		{"0,,1", []int{0, 1}, true},
		{"3-1", nil, false},
		{"x", nil, false},
		{"-1", nil, false},
		{"0-", nil, false},
		{"0-99999999", nil, false},
	} {
		got, ok := expandList(c.in)
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("expandList(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// fakeSysfs writes files (path relative to root: contents) and symlinks
// (path: target) under a temporary root.
func fakeSysfs(t *testing.T, files, links map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, v := range files {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range links {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
	}
	return root
}

func TestReadNUMA(t *testing.T) {
	const node, cpu = "devices/system/node/", "devices/system/cpu/"
	for _, c := range []struct {
		name  string
		files map[string]string
		links map[string]string
		ncpu  int
		nodes int
		want  []int
	}{
		{name: "no sysfs", ncpu: 2, nodes: 0, want: []int{-1, -1}},
		{name: "one node", ncpu: 4, nodes: 1,
			files: map[string]string{node + "online": "0\n", node + "node0/cpulist": "0-3\n"},
			want:  []int{0, 0, 0, 0}},
		{name: "one node, more possible than present", ncpu: 4, nodes: 1,
			files: map[string]string{node + "online": "0\n", node + "node0/cpulist": "0-1\n"},
			want:  []int{0, 0, -1, -1}},
		{name: "two nodes, halves", ncpu: 4, nodes: 2,
			files: map[string]string{node + "online": "0-1\n", node + "node0/cpulist": "0-1\n", node + "node1/cpulist": "2-3\n"},
			want:  []int{0, 0, 1, 1}},
		{name: "two nodes, interleaved, sparse ids", ncpu: 4, nodes: 2,
			files: map[string]string{node + "online": "0,2\n", node + "node0/cpulist": "0,2\n", node + "node2/cpulist": "1,3\n"},
			want:  []int{0, 2, 0, 2}},
		{name: "offline CPU found by its node link", ncpu: 4, nodes: 2,
			files: map[string]string{node + "online": "0-1\n", node + "node0/cpulist": "0\n", node + "node1/cpulist": "2\n", cpu + "cpu1/online": "0\n"},
			links: map[string]string{cpu + "cpu1/node0": "../../node/node0", cpu + "cpu3/node1": "../../node/node1"},
			want:  []int{0, 0, 1, 1}},
		{name: "a CPU in no list and with no link", ncpu: 3, nodes: 2,
			files: map[string]string{node + "online": "0-1\n", node + "node0/cpulist": "0\n", node + "node1/cpulist": "1\n"},
			want:  []int{0, 1, -1}},
		{name: "list beyond the possible CPUs", ncpu: 2, nodes: 2,
			files: map[string]string{node + "online": "0-1\n", node + "node0/cpulist": "0,2\n", node + "node1/cpulist": "1,3\n"},
			want:  []int{0, 1}},
		{name: "unreadable cpulist", ncpu: 2, nodes: 2,
			files: map[string]string{node + "online": "0-1\n", node + "node0/cpulist": "0\n", node + "node1/cpulist": "garbage\n"},
			want:  []int{0, -1}},
		{name: "garbage online", ncpu: 2, nodes: 0,
			files: map[string]string{node + "online": "zero\n", node + "node0/cpulist": "0-1\n"},
			want:  []int{-1, -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := fakeSysfs(t, c.files, c.links)
			got := readNUMA(root, c.ncpu)
			if got.nodes != c.nodes || !reflect.DeepEqual(got.cpuNode, c.want) {
				t.Errorf("nodes %d, cpuNode %v; want %d, %v", got.nodes, got.cpuNode, c.nodes, c.want)
			}
			if n := len(readNUMAOnline(root)); n != c.nodes {
				t.Errorf("readNUMAOnline: %d nodes, want %d", n, c.nodes)
			}
		})
	}
}

func TestSlabLayout(t *testing.T) {
	const page = 4096
	for _, c := range []struct {
		stride     uintptr
		by         Indexing
		nodes      int
		page       uintptr
		mapped     bool
		wantStride uintptr
		wantPlace  bool
	}{
		// One node, or unknown: the default stride, nothing placed.
		{0, ByCPU, 0, page, true, DefaultSlabStride, false},
		{0, ByCPU, 1, page, true, DefaultSlabStride, false},
		{page, ByCPU, 1, page, true, page, false},
		// Several nodes: the default is one page, placed; page multiples are placed.
		{0, ByCPU, 2, page, true, page, true},
		{0, ByCPU, 4, 16384, true, 16384, true},
		{2 * page, ByCPU, 2, page, true, 2 * page, true},
		{page, ByCPU, 2, 16384, true, page, false}, // not a multiple of a 16K page
		{DefaultSlabStride, ByCPU, 2, page, true, DefaultSlabStride, false},
		{64, ByCPU, 2, page, true, 64, false},
		// Concurrency ids are not tied to a node; heap memory is not placed.
		{0, ByConcurrencyID, 2, page, true, DefaultSlabStride, false},
		{page, ByConcurrencyID, 2, page, true, page, false},
		{0, ByCPU, 2, page, false, DefaultSlabStride, false},
		{page, ByCPU, 2, page, false, page, false},
	} {
		s, p := slabLayout(c.stride, c.by, c.nodes, c.page, c.mapped)
		if s != c.wantStride || p != c.wantPlace {
			t.Errorf("slabLayout(%d, %v, nodes %d, page %d, mapped %v) = %d, %v; want %d, %v",
				c.stride, c.by, c.nodes, c.page, c.mapped, s, p, c.wantStride, c.wantPlace)
		}
	}
}

// TestSlabChunkLayout checks the two layouts a chunk can have, here on any
// machine: a placed slab (made as if there were two nodes) maps its blocks
// page-aligned with nothing spare; an unplaced one starts them at a skew,
// a multiple of 64 bytes into a spare page, that differs between chunks.
func TestSlabChunkLayout(t *testing.T) {
	base := func(s *Slab) (uintptr, int) {
		r, err := s.Alloc(1)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Free(r)
		return uintptr(r.chunk.mem.base), len(r.chunk.mem.b)
	}

	placed, err := newSlab(0, ByCPU, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slabMapped {
		if placed.place || placed.Stride() != DefaultSlabStride {
			t.Fatalf("heap slab memory: place %v, stride %d", placed.place, placed.Stride())
		}
	} else {
		if !placed.place || placed.Stride() != pageSize {
			t.Fatalf("two nodes: place %v, stride %d; want true, %d", placed.place, placed.Stride(), pageSize)
		}
		b, size := base(placed)
		if b%pageSize != 0 || size != placed.Len()*int(pageSize) {
			t.Fatalf("placed chunk at %#x, %d bytes; want page-aligned, %d", b, size, placed.Len()*int(pageSize))
		}
		st := placed.Stats()
		t.Logf("placed slab: %+v (mbind: %v)", st, placed.chunks[0].placeErr)
		if st.Placed == 0 && placed.chunks[0].placeErr == nil && numaTopo().nodes > 0 {
			t.Errorf("no block placed, and no mbind error")
		}
	}

	one, err := newSlab(0, ByCPU, 1)
	if err != nil {
		t.Fatal(err)
	}
	if one.place || one.Stride() != DefaultSlabStride {
		t.Fatalf("one node: place %v, stride %d", one.place, one.Stride())
	}
	b1, size := base(one)
	if want := one.Len()*DefaultSlabStride + 4096; size != want {
		t.Fatalf("unplaced chunk of %d bytes, want %d", size, want)
	}
	if b1%64 != 0 {
		t.Fatalf("unplaced chunk base %#x not cache-line aligned", b1)
	}
	if st := one.Stats(); st.Placed != 0 {
		t.Fatalf("unplaced slab reports %d placed blocks", st.Placed)
	}
	other, _ := newSlab(0, ByCPU, 1)
	if b2, _ := base(other); slabMapped && b1%4096 == b2%4096 {
		t.Errorf("two chunks at the same skew %#x", b1%4096)
	}
}
