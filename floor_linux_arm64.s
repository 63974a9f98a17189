//go:build !race

#include "textflag.h"

// The call floor: see floor_linux_amd64.s.

// func floorAdd(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)
TEXT ·floorAdd(SB), NOSPLIT, $0-56
	MOVD	ZR, val+32(FP)
	MOVD	ZR, id+40(FP)
	MOVD	ZR, st+48(FP)
	RET

// func floorCPU() uint32
TEXT ·floorCPU(SB), NOSPLIT, $0-4
	MOVW	ZR, ret+0(FP)
	RET

// func floorCell(c *cell, delta uint64)
TEXT ·floorCell(SB), NOSPLIT, $0-16
	RET
