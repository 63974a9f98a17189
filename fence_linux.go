package rseq

import "golang.org/x/sys/unix"

// The fences, with membarrier(2)'s RSEQ commands (Linux 5.10+): the
// process registers for them once at start-up (setupFence; the engine is
// not used without them), then fenceAll and fenceCPU interrupt the CPUs
// running the process's threads and abort their critical sections. The
// exported Fence and FenceAll are in fence.go.

// membarrier(2) commands used here.
const (
	membarrierCmdQuery                        = 0
	membarrierCmdPrivateExpeditedRseq         = 1 << 7
	membarrierCmdRegisterPrivateExpeditedRseq = 1 << 8
	membarrierCmdFlagCPU                      = 1 << 0
)

func membarrier(cmd, flags, cpu int) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_MEMBARRIER, uintptr(cmd), uintptr(flags), uintptr(cpu))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// setupFence registers this process for membarrier's RSEQ fence.
func setupFence() error {
	mask, err := membarrier(membarrierCmdQuery, 0, 0)
	if err != nil {
		return err
	}
	if mask&membarrierCmdPrivateExpeditedRseq == 0 {
		return unix.EOPNOTSUPP
	}
	_, err = membarrier(membarrierCmdRegisterPrivateExpeditedRseq, 0, 0)
	return err
}

// fenceAll aborts or waits out every critical section of this process
// running on any CPU: after it returns, no section that began before it can
// still commit.
func fenceAll() {
	_, err := membarrier(membarrierCmdPrivateExpeditedRseq, 0, 0)
	if fenceFault != nil { // tests only
		err = fenceFault
	}
	if err != nil {
		panic("rseq: membarrier RSEQ fence failed after it was registered: " + err.Error())
	}
}

// fenceFault, when set (tests only), makes every fence fail with it.
var fenceFault error

// fenceCPU fences one CPU with membarrier's RSEQ command and
// MEMBARRIER_CMD_FLAG_CPU (Linux 5.10+, like the whole-process fence the
// engine requires). ENXIO means the CPU is offline: it runs no sections.
func fenceCPU(cpu int) {
	_, err := membarrier(membarrierCmdPrivateExpeditedRseq, membarrierCmdFlagCPU, cpu)
	if err != nil && err != unix.ENXIO {
		panic("rseq: membarrier RSEQ fence of one CPU failed: " + err.Error())
	}
}
