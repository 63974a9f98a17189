#include "textflag.h"

// The steps of steps.go, each a copy of the one before plus one group of
// rsAddFast's instructions. Registers: BX s, SI want, DI off, R9 delta,
// AX the (fake) area, CX the CPU id, DX the block.
#include "go_asm.h"

// e0: the call floor: write the three results.
TEXT ·e0floor(SB), NOSPLIT, $0-56
	MOVQ	$0, val+32(FP)
	MOVQ	$0, id+40(FP)
	MOVQ	$0, st+48(FP)
	RET

// e1: + the data update at a fixed block (base + off): load, add, store.
TEXT ·e1data(SB), NOSPLIT, $0-56
	MOVQ	s+0(FP), BX
	MOVQ	off+16(FP), DI
	MOVQ	delta+24(FP), R9
	MOVQ	blocks_base(BX), DX
	MOVQ	(DX)(DI*1), R8
	ADDQ	R9, R8
	MOVQ	R8, (DX)(DI*1)
	MOVQ	R8, val+32(FP)
	MOVQ	$0, id+40(FP)
	MOVQ	$0, st+48(FP)
	RET

// e2: + the index from the area (the fake one) and the block address:
// cpu_id load, range check, want check, fbActive, IMUL.
TEXT ·e2index(SB), NOSPLIT, $0-56
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	delta+24(FP), R9
	LEAQ	·area(SB), AX
	MOVQ	blocks_idOff(BX), R8
	MOVL	(AX)(R8*1), CX
	CMPQ	CX, blocks_n(BX)
	JAE	bad
	MOVQ	SI, R8
	TESTQ	SI, SI
	CMOVQLT	CX, R8
	CMPQ	CX, R8
	JNE	bad
	CMPL	·fbActive(SB), $0
	JNE	bad
	MOVQ	CX, DX
	IMULQ	blocks_stride(BX), DX
	ADDQ	blocks_base(BX), DX
	MOVQ	(DX)(DI*1), R8
	ADDQ	R9, R8
	MOVQ	R8, (DX)(DI*1)
	MOVQ	R8, val+32(FP)
	MOVQ	CX, id+40(FP)
	MOVQ	$0, st+48(FP)
	RET
bad:
	MOVQ	$1, st+48(FP)
	RET

// e3: + the thread's area through the thread word (0(FS), the branch on
// areaViaM, areaOff; areaOff points at the fake area) and the arming store.
TEXT ·e3arm(SB), NOSPLIT, $0-56
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	delta+24(FP), R9
	MOVQ	0(FS), AX
	ANDQ	·tlsMask(SB), AX	// 0: the thread word is loaded, not used
	CMPB	·areaViaM(SB), $0
	JEQ	key
	MOVQ	$0, AX
key:
	ADDQ	·areaOff(SB), AX
	LEAQ	·desc(SB), R8
	MOVQ	R8, 8(AX)
	MOVQ	blocks_idOff(BX), R8
	MOVL	(AX)(R8*1), CX
	CMPQ	CX, blocks_n(BX)
	JAE	bad
	MOVQ	SI, R8
	TESTQ	SI, SI
	CMOVQLT	CX, R8
	CMPQ	CX, R8
	JNE	bad
	CMPL	·fbActive(SB), $0
	JNE	bad
	MOVQ	CX, DX
	IMULQ	blocks_stride(BX), DX
	ADDQ	blocks_base(BX), DX
	MOVQ	(DX)(DI*1), R8
	ADDQ	R9, R8
	MOVQ	R8, (DX)(DI*1)
	MOVQ	R8, val+32(FP)
	MOVQ	CX, id+40(FP)
	MOVQ	$0, st+48(FP)
	RET
bad:
	MOVQ	$1, st+48(FP)
	RET

// e4: + the fast entry's argument checks (rotated offset, index+1 < lim).
TEXT ·e4checks(SB), NOSPLIT, $0-56
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	delta+24(FP), R9
	MOVQ	DI, R8
	RORQ	$3, R8
	CMPQ	R8, blocks_lastWord(BX)
	JHI	bad
	LEAQ	1(SI), R8
	CMPQ	R8, blocks_lim(BX)
	JAE	bad
	MOVQ	0(FS), AX
	ANDQ	·tlsMask(SB), AX	// 0: the thread word is loaded, not used
	CMPB	·areaViaM(SB), $0
	JEQ	key
	MOVQ	$0, AX
key:
	ADDQ	·areaOff(SB), AX
	LEAQ	·desc(SB), R8
	MOVQ	R8, 8(AX)
	MOVQ	blocks_idOff(BX), R8
	MOVL	(AX)(R8*1), CX
	CMPQ	CX, blocks_n(BX)
	JAE	bad
	MOVQ	SI, R8
	TESTQ	SI, SI
	CMOVQLT	CX, R8
	CMPQ	CX, R8
	JNE	bad
	CMPL	·fbActive(SB), $0
	JNE	bad
	MOVQ	CX, DX
	IMULQ	blocks_stride(BX), DX
	ADDQ	blocks_base(BX), DX
	MOVQ	(DX)(DI*1), R8
	ADDQ	R9, R8
	MOVQ	R8, (DX)(DI*1)
	MOVQ	R8, val+32(FP)
	MOVQ	CX, id+40(FP)
	MOVQ	$0, st+48(FP)
	RET
bad:
	MOVQ	$1, st+48(FP)
	RET

#define NOP8 BYTE $0x0f; BYTE $0x1f; BYTE $0x84; BYTE $0x00; LONG $0x51535201

// e5: + the three 8-byte marker no-ops the section executes: rsAddFast's
// instructions, on an area the kernel does not know.
TEXT ·e5markers(SB), NOSPLIT, $0-56
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	delta+24(FP), R9
	MOVQ	DI, R8
	RORQ	$3, R8
	CMPQ	R8, blocks_lastWord(BX)
	JHI	bad
	LEAQ	1(SI), R8
	CMPQ	R8, blocks_lim(BX)
	JAE	bad
	MOVQ	0(FS), AX
	ANDQ	·tlsMask(SB), AX	// 0: the thread word is loaded, not used
	CMPB	·areaViaM(SB), $0
	JEQ	key
	MOVQ	$0, AX
key:
	ADDQ	·areaOff(SB), AX
	LEAQ	·desc(SB), R8
	MOVQ	R8, 8(AX)
	NOP8
	MOVQ	blocks_idOff(BX), R8
	MOVL	(AX)(R8*1), CX
	CMPQ	CX, blocks_n(BX)
	JAE	bad
	MOVQ	SI, R8
	TESTQ	SI, SI
	CMOVQLT	CX, R8
	CMPQ	CX, R8
	JNE	bad
	CMPL	·fbActive(SB), $0
	JNE	bad
	MOVQ	CX, DX
	IMULQ	blocks_stride(BX), DX
	ADDQ	blocks_base(BX), DX
	MOVQ	(DX)(DI*1), R8
	ADDQ	R9, R8
	NOP8
	MOVQ	R8, (DX)(DI*1)
	NOP8
	MOVQ	R8, val+32(FP)
	MOVQ	CX, id+40(FP)
	MOVQ	$0, st+48(FP)
	RET
bad:
	MOVQ	$1, st+48(FP)
	RET
