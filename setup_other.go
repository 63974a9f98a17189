//go:build !linux

package rseq

import "runtime"

func setup() {
	info.OS, info.Arch = runtime.GOOS, runtime.GOARCH
	info.PossibleCPUs = runtime.NumCPU()
	info.Reason = ReasonNotLinux
	info.Err = notSupported(featureRseq, ReasonNotLinux, runtime.GOOS, nil)
}

func getcpu() (cpu, node int) { return -1, -1 }
