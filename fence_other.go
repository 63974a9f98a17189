//go:build !linux

package rseq

// fenceCPU is never called where there is no engine (engineOn is false).
func fenceCPU(cpu int) {}
