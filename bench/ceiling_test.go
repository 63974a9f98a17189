package bench

import (
	_ "unsafe" // go:linkname
)

// runtime.procPin pins the goroutine to its P (no preemption) and returns
// the P's id; sync.Pool uses it the same way. Linked by name because the
// ceiling benchmarks need the cheapest correct per-P access there is.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// perPSlot is one P's word, alone on its cache line.
type perPSlot struct {
	n int64
	_ [56]byte
}
