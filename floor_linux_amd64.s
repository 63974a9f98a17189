//go:build !race

#include "textflag.h"

// The call floor: empty functions with the shapes of the primitives, for
// the benchmarks that compare each operation with the cost of calling an
// assembly function at all (Go cannot inline assembly). Each writes its
// results, as a primitive does, and nothing else.

// func floorAdd(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)
TEXT ·floorAdd(SB), NOSPLIT, $0-56
	MOVQ	$0, val+32(FP)
	MOVQ	$0, id+40(FP)
	MOVQ	$0, st+48(FP)
	RET

// func floorCPU() uint32
TEXT ·floorCPU(SB), NOSPLIT, $0-4
	MOVL	$0, ret+0(FP)
	RET

// func floorCell(c *cell, delta uint64)
TEXT ·floorCell(SB), NOSPLIT, $0-16
	RET
