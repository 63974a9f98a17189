//go:build !race

#include "textflag.h"
#include "go_asm.h"
#include "thread_linux_arm64.h"

// Thread-word helpers for linux/arm64. See thread_linux.go.

// func tpidr() uintptr: TPIDR_EL0, the thread pointer.
TEXT ·tpidr(SB), NOSPLIT, $0-8
	MRS	TPIDR_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// func getgp() unsafe.Pointer: the current g (R28).
TEXT ·getgp(SB), NOSPLIT, $0-8
	MOVD	g, R0
	MOVD	R0, ret+0(FP)
	RET

// func threadWord() uintptr: (TPIDR_EL0 & tpMask) + g.m.tls[1]; the area
// is this plus areaOff.
TEXT ·threadWord(SB), NOSPLIT, $0-8
	MRS	TPIDR_EL0, R0
	MOVD	·tpMask(SB), R1
	AND	R1, R0, R0
	MOVD	const_gM(g), R1
	MOVD	const_mTLS1(R1), R1
	ADD	R1, R0, R0
	MOVD	R0, ret+0(FP)
	RET

// func setThreadWord(v uintptr): regOwn only (writes m.tls[1]; tpMask is 0
// there).
TEXT ·setThreadWord(SB), NOSPLIT, $0-8
	MOVD	v+0(FP), R0
	MOVD	const_gM(g), R1
	MOVD	R0, const_mTLS1(R1)
	RET

// func currentArea() unsafe.Pointer: this thread's area (or a stand-in).
TEXT ·currentArea(SB), NOSPLIT, $0-8
	THREAD_AREA(R0, R1)
	MOVD	R0, ret+0(FP)
	RET

// func readArea32(off uintptr) uint32: one u32 field of this thread's area.
TEXT ·readArea32(SB), NOSPLIT, $0-12
	MOVD	off+0(FP), R2
	THREAD_AREA(R0, R1)
	MOVWU	(R0)(R2), R0
	MOVW	R0, ret+8(FP)
	RET

// func readCPU() uint32: cpu_id, the hot path of CPU().
TEXT ·readCPU(SB), NOSPLIT, $0-4
	THREAD_AREA(R0, R1)
	MOVWU	const_offCPUID(R0), R0
	MOVW	R0, ret+0(FP)
	RET

// func cpuFast() int: CPU(). One load from the area; anything else (no
// engine, a thread not registered yet) goes on in cpuSlow, by a tail call,
// so that CPU() is a single call and inlines.
TEXT ·cpuFast(SB), NOSPLIT, $0-8
	MOVBU	·engineOn(SB), R0
	CBZ	R0, slow	// no engine: THREAD_AREA may not even be safe to compute
	THREAD_AREA(R0, R1)
	MOVWU	const_offCPUID(R0), R0
	MOVW	$0xfffffffe, R1	// 0xFFFFFFFE (failed) and 0xFFFFFFFF (unset)
	CMPW	R1, R0
	BHS	slow
	MOVD	R0, ret+0(FP)
	RET
slow:
	JMP	·cpuSlow(SB)
