//go:build !race

#include "textflag.h"
#include "go_asm.h"
#include "thread_linux_amd64.h"

// The critical-section engine for linux/amd64.
//
// Every primitive has the same shape and calling convention:
//
//	func rsX(s *blocks, want int, off uintptr, args...) (val uint64, id int, st int)
//
//  1. Load every argument into registers, then the thread's area
//     (THREAD_AREA, thread_linux_amd64.h), and store descriptor
//     k's address into area.rseq_cs: this arms the section (ARM).
//  2. start_ip, the instruction right after that store: the start marker
//     (a no-op inside the section), then read the index (cpu_id or mm_cid,
//     s.idOff) from the area. 0xFFFFFFFF (not registered), 0xFFFFFFFE
//     (failed) and anything >= s.n leave with stUnregistered; an explicit
//     index (want >= 0) that is not this one leaves with stWrongCPU; a
//     running fallback operation (fbActive != 0) leaves with stDiverted.
//  3. The work: loads, compares, speculative stores into memory that is
//     private until the commit.
//  4. One committing store, the last instruction of the section.
//  5. post_commit_ip: write the results and return.
//  6. After the returns: the signature (a trapping ud1 whose last four
//     bytes are 0x53053053), then the abort handler, which returns
//     stAborted. The caller retries from the top with the same arguments.
//
// Go asm cannot take a label's address, so each boundary is marked with a
// tagged 8-byte NOP (nopl disp32(%rax,%rax,1)); buildDescriptors finds the
// markers at start-up, checks that the instruction ending at the start
// marker is the store to rseq_cs, that only the commit store lies between
// the commit marker and the post-commit marker, and fills the descriptors
// (start_ip is the start marker itself).
// No section contains a call, a syscall or a stack access.

#define MARK_START	BYTE $0x0f; BYTE $0x1f; BYTE $0x84; BYTE $0x00; LONG $0x51535201
#define MARK_COMMIT	BYTE $0x0f; BYTE $0x1f; BYTE $0x84; BYTE $0x00; LONG $0x51535202
#define MARK_POST	BYTE $0x0f; BYTE $0x1f; BYTE $0x84; BYTE $0x00; LONG $0x51535203
#define MARK_END	BYTE $0x0f; BYTE $0x1f; BYTE $0x84; BYTE $0x00; LONG $0x51535204
#define SIGNATURE	BYTE $0x0f; BYTE $0xb9; BYTE $0x3d; LONG $0x53053053

// Test builds (see delay_linux_test.go); normal builds contain none of
// this code.
//
// DELAY(r): with -D=RSEQ_DELAY, spin sectionDelay+1 iterations on register
// r, just before the commit, to widen the window in which preemption,
// signals and other CPUs can interfere with a section. r must be dead at
// that point.
//
// PROBE(r) and COUNT(r): in the same builds, load rseq_cs into r just
// before the commit (inside the section) and, after the section, count the
// commits that found it 0 in unarmedCommits. The kernel clears rseq_cs
// when it interrupts a thread whose IP is outside the armed section, and it
// aborts a section it interrupts; so a section that reaches its commit
// with rseq_cs cleared ran unprotected. r must be free from PROBE to COUNT.
//
// GAP: with -D=RSEQ_GAP (which implies RSEQ_DELAY), spin between the store
// that arms the section and start_ip: the layout bug of issue 10 item 1
// widened, so that TestUnarmedWindow can show it fails on such a layout.
// findSection accepts that layout only in this build.
#ifdef RSEQ_GAP
#define RSEQ_DELAY
#define GAP \
	MOVQ	·sectionDelay(SB), R8; \
	DECQ	R8; \
	JGE	-1(PC)	/* back to the DECQ */
#else
#define GAP
#endif

#ifdef RSEQ_DELAY
#define DELAY(r) \
	MOVQ	·sectionDelay(SB), r; \
	DECQ	r; \
	JGE	-1(PC)	/* back to the DECQ */
#define PROBE(r) \
	MOVQ	const_offRseqCS(AX), r
#define COUNT(r) \
	TESTQ	r, r; \
	JNE	probed; \
	LOCK; \
	INCQ	·unarmedCommits(SB); \
probed:
#else
#define DELAY(r)
#define PROBE(r)
#define COUNT(r)
#endif

// ARM(k): AX = this thread's area; area.rseq_cs = descs[k]. Clobbers R8.
// Its last instruction, the store to rseq_cs, arms the section, and the
// instruction right after it is start_ip: nothing may run between the two
// (an interrupt there would find rseq_cs armed with the IP outside the
// section, clear it, and the section would run unprotected). So every
// argument is loaded before ARM, and MARK_START, the first instruction of
// the section, follows it directly; findSection checks that the
// instruction ending at start_ip is this store.
#define ARM(k) \
	THREAD_AREA(AX); \
	MOVQ	·descs+(8*k)(SB), R8; \
	MOVQ	R8, const_offRseqCS(AX); \
	GAP

// ENTER(unreg, wrong, divert): the first instructions of every section
// that takes an explicit index or Current. In: AX area, BX s, SI want. Out:
// CX = index, DX = base + index*stride. Clobbers R8. Leaves for unreg (no
// usable index), wrong (an explicit index that is not this one) or divert
// (a fallback operation is running). The CMOV makes R8 = (want < 0 ? index
// : want), so one compare checks an explicit index and passes the current
// one.
#define ENTER(unreg, wrong, divert) \
	MOVQ	blocks_idOff(BX), R8; \
	MOVL	(AX)(R8*1), CX; \
	CMPQ	CX, blocks_n(BX); \
	JAE	unreg; \
	MOVQ	SI, R8; \
	TESTQ	SI, SI; \
	CMOVQLT	CX, R8; \
	CMPQ	CX, R8; \
	JNE	wrong; \
	CMPL	·fbActive(SB), $0; \
	JNE	divert; \
	MOVQ	CX, DX; \
	IMULQ	blocks_stride(BX), DX; \
	ADDQ	blocks_base(BX), DX

// ENTER_CUR(slow): the first instructions of a section on the current
// index. In: AX area, BX s. Out: CX = base + index*stride (the block).
// Clobbers R8. Leaves for slow when the thread has no usable index or a
// fallback operation is running.
#define ENTER_CUR(slow) \
	MOVQ	blocks_idOff(BX), R8; \
	MOVL	(AX)(R8*1), CX; \
	CMPQ	CX, blocks_n(BX); \
	JAE	slow; \
	CMPL	·fbActive(SB), $0; \
	JNE	slow; \
	IMULQ	blocks_stride(BX), CX; \
	ADDQ	blocks_base(BX), CX

// CHECK_ARGS(slow): the fast entry points' argument check, before the
// section: off (DI) an aligned word inside the block, and want (SI) in
// [-1, n) on memory sections may run on (lim = n+1; 0 sends every call to
// the slow path). Rotating off right by 3 moves a misaligned offset's low
// bits to the top, so one unsigned compare with the last word's index
// checks both alignment and range. Clobbers R8.
#define CHECK_ARGS(slow) \
	MOVQ	DI, R8; \
	RORQ	$3, R8; \
	CMPQ	R8, blocks_lastWord(BX); \
	JHI	slow; \
	LEAQ	1(SI), R8; \
	CMPQ	R8, blocks_lim(BX); \
	JAE	slow

// EXITS(v, i, s): the one exit tail of a primitive that returns (val, id,
// st) at val+v(FP), id+i(FP) and st+s(FP). Entered at out with R8 = val,
// CX = id and R10 = the status, or at one of the labels, which set them:
// fail and corrupt keep R8 (the value found, the count), wrong keeps CX (the
// index the thread is on), the others report no value and index -1. The
// abort handler (abort_ip, right after the signature) is the instruction
// after SIGNATURE. Clobbers R8, CX, R10.
#define EXITS(v, i, s) \
out: \
	MOVQ	R8, val+v(FP); \
	MOVQ	CX, id+i(FP); \
	MOVQ	R10, st+s(FP); \
	RET; \
fail: \
	MOVQ	$const_stFailed, R10; \
	JMP	out; \
corrupt: \
	MOVQ	$const_stCorrupt, R10; \
	JMP	out; \
wrong: \
	XORL	R8, R8; \
	MOVQ	$const_stWrongCPU, R10; \
	JMP	out; \
unreg: \
	MOVQ	$const_stUnregistered, R10; \
	JMP	none; \
divert: \
	MOVQ	$const_stDiverted, R10; \
	JMP	none; \
	SIGNATURE; \
	MOVQ	$const_stAborted, R10; \
none: \
	XORL	R8, R8; \
	MOVQ	$-1, CX; \
	JMP	out

// func rsAdd(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)
// *(block+off) += delta; val = the new value.
// Registers: AX area, BX s, SI want, DI off, R9 delta, CX index, DX block,
// R8 value.
TEXT ·rsAdd(SB), NOSPLIT, $0-56
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	delta+24(FP), R9
	ARM(0)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	MOVQ	(DX)(DI*1), R8
	ADDQ	R9, R8
	DELAY(R10)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R8, (DX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVQ	$const_stCommitted, R10
	EXITS(32, 40, 48)
	MARK_END

// func rsCAS(s *blocks, want int, off uintptr, old, nv uint64) (val uint64, id int, st int)
// if *(block+off) == old { *(block+off) = nv }; val = the value found.
// Registers: AX area, BX s, SI want, DI off, R9 old, R12 nv, CX index,
// DX block, R8 value found.
TEXT ·rsCAS(SB), NOSPLIT, $0-64
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	old+24(FP), R9
	MOVQ	nv+32(FP), R12
	ARM(1)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	MOVQ	(DX)(DI*1), R8
	CMPQ	R8, R9
	JNE	fail
	DELAY(R10)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R12, (DX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVQ	$const_stCommitted, R10
	EXITS(40, 48, 56)
	MARK_END

// func rsCASGuarded(s *blocks, want int, off uintptr, old, nv uint64, guard *uint64, gval uint64) (val uint64, id int, st int)
// if *(block+off) == old && *guard == gval { *(block+off) = nv }; val =
// the value found at block+off.
// Registers: AX area, BX s, SI want, DI off, R9 old, R12 nv, R13 guard,
// R10 gval, CX index, DX block, R8 value found.
TEXT ·rsCASGuarded(SB), NOSPLIT, $0-80
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	old+24(FP), R9
	MOVQ	nv+32(FP), R12
	MOVQ	guard+40(FP), R13
	MOVQ	gval+48(FP), R10
	ARM(2)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	MOVQ	(DX)(DI*1), R8
	CMPQ	R8, R9
	JNE	fail
	CMPQ	(R13), R10	// second guard
	JNE	fail
	DELAY(R10)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R12, (DX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVQ	$const_stCommitted, R10
	EXITS(56, 64, 72)
	MARK_END

// func rsPop(s *blocks, want int, off, arrOff, capacity uintptr) (val uint64, id int, st int)
// A per-index LIFO: a count at block+off and capacity words at
// block+arrOff. if count == 0: stFailed; if count > capacity: stCorrupt;
// else val = arr[count-1] and count-- (the commit). No ABA: only sections on
// this index (and fallback operations, which divert them) change it.
// Registers: AX area, BX s, SI want, DI off, R9 arrOff, R12 capacity,
// CX index, DX block, R8 count, R11 &arr[0], R13 value.
TEXT ·rsPop(SB), NOSPLIT, $0-64
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	arrOff+24(FP), R9
	MOVQ	capacity+32(FP), R12
	ARM(3)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	MOVQ	(DX)(DI*1), R8
	TESTQ	R8, R8
	JZ	fail	// empty
	CMPQ	R8, R12
	JA	corrupt	// a count past the array: never index with it
	DECQ	R8
	LEAQ	(DX)(R9*1), R11
	MOVQ	(R11)(R8*8), R13
	DELAY(R10)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R8, (DX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVQ	R13, R8
	MOVQ	$const_stCommitted, R10
	EXITS(40, 48, 56)
	MARK_END

// func rsPush(s *blocks, want int, off, arrOff, capacity uintptr, v uint64) (val uint64, id int, st int)
// The push of rsPop's LIFO: if count == capacity: stFailed (full); if
// count > capacity: stCorrupt; else arr[count] = v (speculative: the slot
// is not live until the count covers it) and count++ (the commit); val =
// the new count.
// Registers: AX area, BX s, SI want, DI off, R9 arrOff, R12 capacity,
// R13 v, CX index, DX block, R8 count, R11 &arr[0].
TEXT ·rsPush(SB), NOSPLIT, $0-72
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	arrOff+24(FP), R9
	MOVQ	capacity+32(FP), R12
	MOVQ	v+40(FP), R13
	ARM(4)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	MOVQ	(DX)(DI*1), R8
	CMPQ	R8, R12
	JA	corrupt
	JE	fail	// full
	LEAQ	(DX)(R9*1), R11
	MOVQ	R13, (R11)(R8*8)	// speculative store
	INCQ	R8
	DELAY(R10)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R8, (DX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVQ	$const_stCommitted, R10
	EXITS(48, 56, 64)
	MARK_END

// func rsCopy(s *blocks, want int, off uintptr, expect uint64, dstOff uintptr, src unsafe.Pointer, n uintptr, nv uint64) (val uint64, id int, st int)
// if *(block+off) == expect { copy n bytes from src to block+dstOff
// (speculative); *(block+off) = nv (the commit) }; val = the value found.
// n is at most MaxCopy (checked by the caller).
// Registers: AX area, BX s, SI want, DI off, R9 expect, R11 dstOff then
// the destination cursor, R12 source cursor, R13 bytes left, R10 nv,
// CX index, DX block, R8 value found then the copied word.
TEXT ·rsCopy(SB), NOSPLIT, $0-88
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	expect+24(FP), R9
	MOVQ	dstOff+32(FP), R11
	MOVQ	src+40(FP), R12
	MOVQ	n+48(FP), R13
	MOVQ	nv+56(FP), R10
	ARM(5)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	MOVQ	(DX)(DI*1), R8
	CMPQ	R8, R9
	JNE	fail
	ADDQ	DX, R11
copy8:
	CMPQ	R13, $8
	JB	copy1
	MOVQ	(R12), R8
	MOVQ	R8, (R11)	// speculative
	ADDQ	$8, R12
	ADDQ	$8, R11
	SUBQ	$8, R13
	JMP	copy8
copy1:
	TESTQ	R13, R13
	JZ	copied
	MOVB	(R12), R8
	MOVB	R8, (R11)	// speculative
	INCQ	R12
	INCQ	R11
	DECQ	R13
	JMP	copy1
copied:
	DELAY(R12)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R10, (DX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVQ	R9, R8
	MOVQ	$const_stCommitted, R10
	EXITS(64, 72, 80)
	MARK_END

// Fast entry points. Each finishes its operation: what its section cannot
// do (bad arguments, memory the engine does not run on, a thread not yet
// registered, a running fallback operation, an abort) it hands to a Go
// function with the same arguments by a tail call (JMP), so that the Go
// method calling it makes one call and can be inlined. None returns a
// status that needs handling.

// func rsAddFast(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)
// PerCPU.Add: as rsAdd, but st is only stCommitted or stWrongCPU; the rest
// goes on in addSlow.
// Registers: AX area, BX s, SI want, DI off, R9 delta, CX index, DX block,
// R8 value.
TEXT ·rsAddFast(SB), NOSPLIT, $0-56
	MOVQ	s+0(FP), BX
	MOVQ	want+8(FP), SI
	MOVQ	off+16(FP), DI
	MOVQ	delta+24(FP), R9
	CHECK_ARGS(slow)
	ARM(6)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(slow, wrong, slow)
	MOVQ	(DX)(DI*1), R8
	ADDQ	R9, R8
	DELAY(R10)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R8, (DX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVQ	R8, val+32(FP)
	MOVQ	CX, id+40(FP)
	MOVQ	$const_stCommitted, st+48(FP)
	RET
wrong:
	MOVQ	$0, val+32(FP)
	MOVQ	CX, id+40(FP)
	MOVQ	$const_stWrongCPU, st+48(FP)
	RET
slow:
	JMP	·addSlow(SB)
	SIGNATURE
	// abort_ip
	JMP	·addAborted(SB)
	MARK_END

// func rsCellAdd(c *cell, delta uint64)
// *(block of the current index + c.off) += delta, with one read-modify-
// write instruction as the commit: the new value is not needed, and an
// interrupt lands before or after an instruction, never inside it (no
// other CPU writes the word, so no LOCK prefix). A zero cell, memory the
// engine does not run on and every other case go on in cellAddSlow.
// Registers: R11 c, BX s, DI off, R9 delta, AX area, CX index then block.
TEXT ·rsCellAdd(SB), NOSPLIT, $0-16
	MOVQ	c+0(FP), R11
	MOVQ	delta+8(FP), R9
	MOVQ	cell_s(R11), BX	// loaded before off: a zero cell publishes off first (TSO keeps the order)
	MOVQ	cell_off(R11), DI
	TESTQ	BX, BX
	JEQ	slow	// a zero cell
	CMPQ	blocks_lim(BX), $0
	JEQ	slow	// no sections on this memory
	ARM(7)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER_CUR(slow)
	DELAY(R10)
	PROBE(R10)
	MARK_COMMIT
	ADDQ	R9, (CX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R10)
	RET
slow:
	JMP	·cellAddSlow(SB)
	SIGNATURE
	// abort_ip
	JMP	·cellAddAborted(SB)
	MARK_END

// func rsFloatAdd(s *blocks, off uintptr, v float64)
// The float64 at (block of the current index + off) += v: Histogram's sum.
// off is checked by the caller (a layout fixed at construction). Memory the
// engine does not run on and every other case go on in floatAddSlow.
// Registers: BX s, DI off, X1 v, AX area, CX block, X0 the sum.
TEXT ·rsFloatAdd(SB), NOSPLIT, $0-24
	MOVQ	s+0(FP), BX
	MOVQ	off+8(FP), DI
	MOVSD	v+16(FP), X1
	CMPQ	blocks_lim(BX), $0
	JEQ	slow	// no sections on this memory
	ARM(8)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER_CUR(slow)
	MOVSD	(CX)(DI*1), X0
	ADDSD	X1, X0
	DELAY(R10)
	PROBE(R10)
	MARK_COMMIT
	MOVSD	X0, (CX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R10)
	RET
slow:
	JMP	·floatAddSlow(SB)
	SIGNATURE
	// abort_ip
	JMP	·floatAddAborted(SB)
	MARK_END

// func rsStackPop(st *stack) (v uint64, ok bool)
// Pop from the caller's block of a per-CPU LIFO (see rsPop): ok is false
// when it is empty. A count past the capacity (corrupt memory), memory the
// engine does not run on and every other case go on in stackPopSlow.
// Registers: R11 st, BX s, DI countOff, R9 arrOff, R12 capacity, AX area,
// CX block, R8 count, R10 &arr[0], R13 value.
TEXT ·rsStackPop(SB), NOSPLIT, $0-17
	MOVQ	st+0(FP), R11
	MOVQ	stack_s(R11), BX
	MOVQ	stack_countOff(R11), DI
	MOVQ	stack_arrOff(R11), R9
	MOVQ	stack_capacity(R11), R12
	CMPQ	blocks_lim(BX), $0
	JEQ	slow	// no sections on this memory
	ARM(9)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER_CUR(slow)
	MOVQ	(CX)(DI*1), R8
	TESTQ	R8, R8
	JZ	empty
	CMPQ	R8, R12
	JA	slow	// a count past the array: the slow path reports it
	DECQ	R8
	LEAQ	(CX)(R9*1), R10
	MOVQ	(R10)(R8*8), R13
	DELAY(R10)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R8, (CX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVQ	R13, v+8(FP)
	MOVB	$1, ok+16(FP)
	RET
empty:
	CMPQ	stack_empty(R11), $0	// R11 is still st here
	JNE	refill
	MOVQ	$0, v+8(FP)
	MOVB	$0, ok+16(FP)
	RET
refill:
	JMP	·stackEmpty(SB)
slow:
	JMP	·stackPopSlow(SB)
	SIGNATURE
	// abort_ip
	JMP	·stackPopAborted(SB)
	MARK_END

// func rsStackPush(st *stack, v uint64) (ok bool)
// Push onto the caller's block of a per-CPU LIFO (see rsPush): ok is false
// when it is full. The rest goes on in stackPushSlow.
// Registers: R11 st, BX s, DI countOff, R9 arrOff, R12 capacity, R13 v,
// AX area, CX block, R8 count, R10 &arr[0].
TEXT ·rsStackPush(SB), NOSPLIT, $0-17
	MOVQ	st+0(FP), R11
	MOVQ	v+8(FP), R13
	MOVQ	stack_s(R11), BX
	MOVQ	stack_countOff(R11), DI
	MOVQ	stack_arrOff(R11), R9
	MOVQ	stack_capacity(R11), R12
	CMPQ	blocks_lim(BX), $0
	JEQ	slow	// no sections on this memory
	ARM(10)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER_CUR(slow)
	MOVQ	(CX)(DI*1), R8
	CMPQ	R8, R12
	JA	slow	// a count past the array: the slow path reports it
	JE	full
	LEAQ	(CX)(R9*1), R10
	MOVQ	R13, (R10)(R8*8)	// speculative store
	INCQ	R8
	DELAY(R10)
	PROBE(R11)
	MARK_COMMIT
	MOVQ	R8, (CX)(DI*1)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT(R11)
	MOVB	$1, ok+16(FP)
	RET
full:
	CMPQ	stack_full(R11), $0	// R11 is still st here
	JNE	spill
	MOVB	$0, ok+16(FP)
	RET
spill:
	JMP	·stackFull(SB)
slow:
	JMP	·stackPushSlow(SB)
	SIGNATURE
	// abort_ip
	JMP	·stackPushAborted(SB)
	MARK_END

// func primEntries(p *[nPrim]unsafe.Pointer): the code addresses of the
// primitives, in descriptor order.
TEXT ·primEntries(SB), NOSPLIT, $0-8
	MOVQ	p+0(FP), DI
	LEAQ	·rsAdd(SB), AX
	MOVQ	AX, 0(DI)
	LEAQ	·rsCAS(SB), AX
	MOVQ	AX, 8(DI)
	LEAQ	·rsCASGuarded(SB), AX
	MOVQ	AX, 16(DI)
	LEAQ	·rsPop(SB), AX
	MOVQ	AX, 24(DI)
	LEAQ	·rsPush(SB), AX
	MOVQ	AX, 32(DI)
	LEAQ	·rsCopy(SB), AX
	MOVQ	AX, 40(DI)
	LEAQ	·rsAddFast(SB), AX
	MOVQ	AX, 48(DI)
	LEAQ	·rsCellAdd(SB), AX
	MOVQ	AX, 56(DI)
	LEAQ	·rsFloatAdd(SB), AX
	MOVQ	AX, 64(DI)
	LEAQ	·rsStackPop(SB), AX
	MOVQ	AX, 72(DI)
	LEAQ	·rsStackPush(SB), AX
	MOVQ	AX, 80(DI)
	RET

// func sectionDelayBuilt() bool: whether DELAY is compiled in.
TEXT ·sectionDelayBuilt(SB), NOSPLIT, $0-1
#ifdef RSEQ_DELAY
	MOVB	$1, ret+0(FP)
#else
	MOVB	$0, ret+0(FP)
#endif
	RET

// func sectionGapBuilt() bool: whether GAP is compiled in (-D=RSEQ_GAP).
TEXT ·sectionGapBuilt(SB), NOSPLIT, $0-1
#ifdef RSEQ_GAP
	MOVB	$1, ret+0(FP)
#else
	MOVB	$0, ret+0(FP)
#endif
	RET
