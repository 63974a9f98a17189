//go:build !linux

package rseq

// Without Linux there is no engine (engineOn is false) and nothing to
// fence: these are never called.
func fenceCPU(cpu int) {}
func fenceAll()        {}
