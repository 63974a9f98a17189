package rseq

// CPU returns the number of the CPU the calling thread runs on. With rseq it
// is one load from the thread's area; otherwise it asks the kernel (the
// getcpu system call, far slower), and where the OS cannot tell it returns
// -1. The goroutine may run elsewhere by the time the caller looks at the
// result: use it as a hint, or pass Current to a PerCPU operation instead.
func CPU() int {
	return cpuFast() // inlined: one call; cpuFast goes on in cpuSlow when it must
}

// cpuSlow registers the thread, or asks the kernel. cpuFast jumps here when
// the thread has no usable area.
func cpuSlow() int {
	if engineOn && registerThread() {
		if c := readCPU(); c < idFailed {
			return int(c)
		}
	}
	c, _ := getcpu()
	return c
}

// NodeID returns the NUMA node of the CPU the calling thread runs on: the
// area's node_id on Linux 6.3+, the getcpu system call otherwise, and -1
// where the OS cannot tell.
func NodeID() int {
	if engineOn && info.NodeID {
		if v := readID(offNodeID); v >= 0 {
			return v
		}
	}
	_, n := getcpu()
	return n
}

// ConcurrencyID returns the calling thread's concurrency id (the kernel's
// mm_cid: dense in [0, min(threads, CPUs)), unique among the process's
// running threads), or -1 where it is not available: kernels before 6.3,
// and whenever rseq is not used (see Info).
func ConcurrencyID() int {
	if engineOn && info.ConcurrencyID {
		return readID(offMMCID)
	}
	return -1
}

// PossibleCPUs returns the number of CPU ids the kernel may ever use
// (/sys/devices/system/cpu/possible): the length to give per-CPU memory.
func PossibleCPUs() int { return info.PossibleCPUs }

// readID reads an id field of the calling thread's area, registering the
// thread first if needed; -1 if the thread has no registered area. The
// stand-in areas of unregistered threads hold 0xFFFFFFFF in every id, so a
// goroutine that moves to another thread between the two steps reads -1,
// never another thread's value.
func readID(off uintptr) int {
	if readCPU() == idUnset {
		registerThread()
	}
	if v := readArea32(off); v < idFailed {
		return int(v)
	}
	return -1
}
