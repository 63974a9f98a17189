//go:build !linux

package rseq

import "runtime"

func setup() {
	info.OS, info.Arch = runtime.GOOS, runtime.GOARCH
	info.PossibleCPUs = runtime.NumCPU()
	info.Reason = ReasonNotLinux
}

func getcpu() (cpu, node int) { return -1, -1 }
