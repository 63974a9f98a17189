//go:build amd64

// Package steps measures where the time of one PerCPU.Add goes, from the
// Go call floor up to the engine's instructions, on amd64.
//
// Each function adds one step of rsAddFast (engine_linux_amd64.s) to the one
// before: 0 the call with its arguments and three results; 1 the data update
// (load, add, store); 2 the index from the thread's area (cpu_id, range and
// want checks, fbActive, stride multiply); 3 the thread's area found through
// the thread word, and the store that arms the section; 4 the entry's
// argument checks; 5 the three 8-byte no-op markers. Step 5 is rsAddFast's
// instruction sequence, but on an area the kernel does not know (a package
// variable): comparing it with the real PerCPU.Add shows what the kernel adds
// (nothing measurable), and the steps show what each instruction group costs.
// The thread word is loaded but masked off (tlsMask), so that the
// experiment writes only its own memory whatever 0(FS) holds in this binary.
//
//	cd bench && go test -run '^$' -bench . -count 10 ./steps | benchstat -col /step -
package steps

import "unsafe"

// blocks mirrors the engine's view of per-CPU memory (abi.go).
type blocks struct {
	base     unsafe.Pointer
	stride   uintptr
	n        uintptr
	idOff    uintptr
	lim      uintptr
	lastWord uintptr
}

var (
	area     [16]uint64 // stands for the thread's rseq area; cpu_id 0
	desc     [4]uint64  // stands for the section's descriptor
	fbActive int32
	areaOff  uintptr // the area's address (the thread word is masked to 0)
	tlsMask  uintptr // 0: see the package doc
	areaViaM bool
)

//go:noescape
func e0floor(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)

//go:noescape
func e1data(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)

//go:noescape
func e2index(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)

//go:noescape
func e3arm(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)

//go:noescape
func e4checks(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)

//go:noescape
func e5markers(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)
