//go:build linux && (amd64 || arm64) && !race

package rseq

// Empty assembly functions with the primitives' shapes: the cost of the
// call alone, for the benchmarks (floor_linux_$GOARCH.s). Not used by the
// package itself.

//go:noescape
func floorAdd(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)

func floorCPU() uint32

//go:noescape
func floorCell(c *cell, delta uint64)
