package rseq

import (
	"runtime"
	"sync/atomic"
)

// retryable decides what a wrapper does after a primitive returned st,
// which is neither committed nor failed: true means call the primitive
// again, false means use the fallback for this operation.
func retryable(st int) bool {
	switch st {
	case stAborted:
		aborts.Add(1)
		return true
	case stUnregistered:
		// A thread with no area yet registers and retries. A registered
		// thread lands here when its index is past the memory's length
		// (size memory by PossibleCPUs): the fallback handles that.
		if threadState() != idUnset {
			return false
		}
		return registerThread()
	case stDiverted:
		return waitFallbacks()
	}
	return false
}

// fallbackWait bounds how long (ns) a diverted section waits for the
// fallback operations in progress to end before it joins them: a few
// fences' time (a fence costs 1.7 µs on a 2-vCPU machine, more with more
// CPUs). A variable for the tests.
var fallbackWait int64 = 20_000

// waitFallbacks: a section found a fallback operation running (stDiverted).
// Joining it would make this operation a fallback one too: it raises
// fbActive and fences every CPU, and diverts the next sections in turn, so
// that one remote pop among busy threads kept them all on the fallback,
// each operation paying a fence (FreeList's steal from another CPU's cache
// did that: 2 ns operations became 2 µs ones for as long as they kept
// coming). So wait for the operations running to end, yielding the
// processor (the one running may be waiting for it), and report whether
// they did within fallbackWait: then the section is retried, else it joins
// the fallback (an unregistered thread that keeps the fallback busy does
// not starve the others). Sections never wait on anything else, so the wait
// cannot deadlock. Shared memory, which has no fallback, waits with no
// bound (strictRetry).
func waitFallbacks() bool { return waitFallbacksFor(fallbackWait) }

func waitFallbacksFor(bound int64) bool {
	var start int64
	for i := 0; ; i++ {
		if atomic.LoadInt32(&fbActive) == 0 {
			return true
		}
		switch {
		case i == 0:
			start = nanotime()
		case bound >= 0 && nanotime()-start > bound:
			return false
		}
		runtime.Gosched()
	}
}
