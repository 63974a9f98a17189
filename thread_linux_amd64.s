//go:build !race

#include "textflag.h"
#include "go_asm.h"
#include "thread_linux_amd64.h"

// Thread-word helpers for linux/amd64. See thread_linux.go. With a C
// library, FS is its thread pointer (glibc's TCB, whose first word points to
// itself); in pure Go it is &m.tls[0]+8 (runtime·settls), so 0(FS) is
// m.tls[1]. (TLS) is the current g in both: the assembler and linker turn it
// into the runtime's own g slot.

// func threadWord() uintptr: the key THREAD_AREA adds areaOff to.
TEXT ·threadWord(SB), NOSPLIT, $0-8
	CMPB	·areaViaM(SB), $0
	JNE	viaM
	MOVQ	0(FS), AX
	MOVQ	AX, ret+0(FP)
	RET
viaM:
	MOVQ	(TLS), AX
	MOVQ	const_gM(AX), AX
	MOVQ	const_mTLS1(AX), AX
	MOVQ	AX, ret+0(FP)
	RET

// func setThreadWord(v uintptr): regOwn only (writes m.tls[1], through FS
// in pure Go, through g.m with a C library).
TEXT ·setThreadWord(SB), NOSPLIT, $0-8
	MOVQ	v+0(FP), AX
	CMPB	·areaViaM(SB), $0
	JNE	viaM
	MOVQ	AX, 0(FS)
	RET
viaM:
	MOVQ	(TLS), CX
	MOVQ	const_gM(CX), CX
	MOVQ	AX, const_mTLS1(CX)
	RET

// func getgp() unsafe.Pointer: the current g.
TEXT ·getgp(SB), NOSPLIT, $0-8
	MOVQ	(TLS), AX
	MOVQ	AX, ret+0(FP)
	RET

// func fs0() uintptr: the word at 0(FS).
TEXT ·fs0(SB), NOSPLIT, $0-8
	MOVQ	0(FS), AX
	MOVQ	AX, ret+0(FP)
	RET

// func currentArea() unsafe.Pointer: this thread's area (or a stand-in).
TEXT ·currentArea(SB), NOSPLIT, $0-8
	THREAD_AREA(AX)
	MOVQ	AX, ret+0(FP)
	RET

// func readArea32(off uintptr) uint32: one u32 field of this thread's area.
TEXT ·readArea32(SB), NOSPLIT, $0-12
	MOVQ	off+0(FP), CX
	THREAD_AREA(AX)
	MOVL	(AX)(CX*1), AX
	MOVL	AX, ret+8(FP)
	RET

// func readCPU() uint32: cpu_id, the hot path of CPU().
TEXT ·readCPU(SB), NOSPLIT, $0-4
	THREAD_AREA(AX)
	MOVL	const_offCPUID(AX), AX
	MOVL	AX, ret+0(FP)
	RET

// func cpuFast() int: CPU(). One load from the area; anything else (no
// engine, a thread not registered yet) goes on in cpuSlow, by a tail call,
// so that CPU() is a single call and inlines.
TEXT ·cpuFast(SB), NOSPLIT, $0-8
	CMPB	·engineOn(SB), $0
	JEQ	slow	// no engine: THREAD_AREA may not even be safe to compute
	THREAD_AREA(AX)
	MOVL	const_offCPUID(AX), AX
	CMPL	AX, $-2	// 0xFFFFFFFE (failed) and 0xFFFFFFFF (unset)
	JAE	slow
	MOVQ	AX, ret+0(FP)
	RET
slow:
	JMP	·cpuSlow(SB)
