//go:build !race

#include "textflag.h"
#include "go_asm.h"

// Thread-word helpers. On linux/amd64 the FS segment base is the thread
// pointer: with a C library, glibc's TCB, whose first word (0(FS)) points to
// itself; in pure Go, &m.tls[0]+8 (runtime·settls), so 0(FS) is m.tls[1]
// and -8(FS) is m.tls[0], the current g. See register_linux.go.

// func threadWord() uintptr
TEXT ·threadWord(SB), NOSPLIT, $0-8
	MOVQ	0(FS), AX
	MOVQ	AX, ret+0(FP)
	RET

// func setThreadWord(v uintptr): pure-Go mode only (writes m.tls[1]).
TEXT ·setThreadWord(SB), NOSPLIT, $0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, 0(FS)
	RET

// func tlsG() unsafe.Pointer: the word at -8(FS), the current g in pure Go.
TEXT ·tlsG(SB), NOSPLIT, $0-8
	MOVQ	-8(FS), AX
	MOVQ	AX, ret+0(FP)
	RET

// func currentArea() unsafe.Pointer: this thread's area (or a stand-in).
TEXT ·currentArea(SB), NOSPLIT, $0-8
	MOVQ	0(FS), AX
	ADDQ	·areaOff(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func readArea32(off uintptr) uint32: one u32 field of this thread's area.
TEXT ·readArea32(SB), NOSPLIT, $0-12
	MOVQ	off+0(FP), CX
	MOVQ	0(FS), AX
	ADDQ	·areaOff(SB), AX
	MOVL	(AX)(CX*1), AX
	MOVL	AX, ret+8(FP)
	RET

// func readCPU() uint32: cpu_id, the hot path of CPU().
TEXT ·readCPU(SB), NOSPLIT, $0-4
	MOVQ	0(FS), AX
	ADDQ	·areaOff(SB), AX
	MOVL	const_offCPUID(AX), AX
	MOVL	AX, ret+0(FP)
	RET
