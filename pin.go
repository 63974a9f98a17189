package rseq

import _ "unsafe" // go:linkname

// procPin disables preemption of the calling goroutine and returns the index
// of its P; the fallback uses it as a cheap, well-spread index.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()
