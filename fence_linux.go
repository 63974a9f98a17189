package rseq

import "golang.org/x/sys/unix"

// fenceCPU fences one CPU with membarrier's RSEQ command and
// MEMBARRIER_CMD_FLAG_CPU (Linux 5.10+, like the whole-process fence the
// engine requires). ENXIO means the CPU is offline: it runs no sections.
func fenceCPU(cpu int) {
	_, err := membarrier(membarrierCmdPrivateExpeditedRseq, membarrierCmdFlagCPU, cpu)
	if err != nil && err != unix.ENXIO {
		panic("rseq: membarrier RSEQ fence of one CPU failed: " + err.Error())
	}
}
