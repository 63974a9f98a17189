package rseq

import "sync/atomic"

// engineOn is true once start-up decided that critical sections run as
// restartable sequences in this process. It never changes afterwards.
var engineOn bool

// info is the start-up picture of the process, filled once by setup.
var info Info

// threadFailures counts threads that could not register.
var threadFailures atomic.Uint64

// aborts counts sections the kernel aborted (and the wrappers retried).
// It is touched only on the abort path.
var aborts atomic.Uint64

// ReadInfo returns what this kernel and process support and what the library
// chose. The result is computed at start-up; only ThreadFailures changes.
func ReadInfo() Info {
	in := info
	in.ThreadFailures = threadFailures.Load()
	return in
}

func init() {
	setup()
	engineOn = info.Usable
}
