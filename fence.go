package rseq

import (
	"fmt"
	"sync/atomic"
)

// FenceAll waits until no critical section of this process that began
// before the call can still commit, on any CPU: every section running
// elsewhere at the time of the call has either committed or been aborted
// (and will retry, seeing whatever the caller stored before the call) when
// FenceAll returns. It also orders memory like a full barrier executed on
// every CPU running one of the process's threads.
//
// This is the tool for acting on another CPU's per-CPU data (drain it,
// retire it, change the rules its sections check): store the new rule,
// FenceAll, then act. With rseq it is a membarrier(2)
// MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, which interrupts every CPU running
// the process (microseconds: do not call it on a fast path).
//
// Fallback operations are waited out too: where rseq is not used, and
// whenever a fallback operation is running beside the engine, FenceAll
// takes and releases each of the fallback's locks, so that an operation
// that read its operands before the call has also stored its result when
// FenceAll returns (a few microseconds).
func FenceAll() {
	if engineOn {
		fenceAll()
	}
	fbSweep()
}

// fbSweep waits for every fallback operation in progress. Each one holds
// one of fbLocks from before it reads memory until after it stores; one that
// takes a lock after the sweep released it sees every store made before
// the sweep. With the engine on, fallback operations first raise fbActive
// (atomically, so one that starts after this load sees the caller's
// earlier stores), and nothing is needed while it is zero.
func fbSweep() {
	if engineOn && atomic.LoadInt32(&fbActive) == 0 {
		return
	}
	for i := range fbLocks {
		fbLocks[i].Lock()
		fbLocks[i].Unlock() // an empty critical section: waiting is the point
	}
}

// Fence is FenceAll for one CPU: after it returns, no critical section
// that began on CPU cpu before the call can still commit. An offline CPU
// runs no sections, and Fence returns at once. It panics if cpu is not in
// [0, PossibleCPUs()).
//
// Fence targets a CPU number: use it for memory indexed ByCPU. A thread's
// concurrency id is not tied to a CPU, so memory indexed ByConcurrencyID
// needs FenceAll. Fallback operations are waited out as under FenceAll
// (the fallback does not know CPUs: all of them).
func Fence(cpu int) {
	if cpu < 0 || cpu >= PossibleCPUs() {
		panic(fmt.Sprintf("rseq: Fence: CPU %d out of range [0, %d)", cpu, PossibleCPUs()))
	}
	if engineOn {
		fenceCPU(cpu)
	}
	fbSweep()
}
