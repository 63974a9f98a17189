//go:build !race

#include "textflag.h"
#include "go_asm.h"
#include "thread_linux_arm64.h"

// The critical-section engine for linux/arm64: the same primitives, shape,
// convention and status codes as engine_linux_amd64.s.
//
//	func rsX(s *blocks, want int, off uintptr, args...) (val uint64, id int, st int)
//
//  1. Load the thread's area (THREAD_AREA, thread_linux_arm64.h) and store
//     descriptor k's address into area.rseq_cs: this arms the section.
//     Outside the section.
//  2. start_ip: read the index (cpu_id or mm_cid, s.idOff). 0xFFFFFFFF,
//     0xFFFFFFFE and anything >= s.n leave with stUnregistered; an explicit
//     index (want >= 0) that is not this one leaves with stWrongCPU; a
//     running fallback operation (fbActive != 0) leaves with stDiverted.
//  3. The work: loads, compares, speculative stores into memory that is
//     private until the commit.
//  4. One committing store, the last instruction of the section: always a
//     store-release (STLR), see below.
//  5. post_commit_ip: write the results and return.
//  6. After the returns: the signature, the instruction word brk #0x45e0
//     (0xd428bc00, glibc's RSEQ_SIG for arm64), then the abort handler,
//     which returns stAborted. The caller retries with the same arguments.
//
// Markers. Go asm cannot take a label's address, so the boundaries are
// marked with instructions that do nothing: ORR XZR, XZR, XZR, LSL #n
// (an ORR whose result goes to the zero register: a NOP by definition,
// unlike the HINT space, whose unallocated immediates may gain a meaning,
// as BTI and CHKFEAT did), with n = 48 + the tag of the amd64 markers: 49 (start), 51
// (post-commit), 52 (end).
// The Go toolchain never emits them. Instructions are 4 bytes and the
// assembler pads nothing inside a straight line of code, so the section's
// last instruction is exactly the word before the post-commit marker:
// buildDescriptors checks it is the expected commit store, with no commit
// marker needed (amd64 needs one: its instructions have variable length).
//
// Memory ordering. x86 is TSO; arm64 is not, and the structures above the
// engine were written for x86's guarantees, so the sections restore the
// ones they rely on. Every load inside a section, and why its order holds:
//
//   - cpu_id / mm_cid (the index): written by the kernel for this thread
//     only, before it returns to user space; a change of CPU aborts the
//     section. No other CPU is involved.
//   - fbActive: LDARW (acquire), so every later load of the section is
//     ordered after it. Why it must be, in litmus form (MP: message
//     passing). F is a fallback operation on block c, running on another
//     CPU; S is a section on CPU c that starts after F's fence:
//
//	    F (other CPU)                  S (CPU c)
//	    a: STR  k-1 -> data[c]         c: LDR  fbActive -> 0
//	    b: STLR fbActive-- (release)   d: LDR  data[c]  -> ?
//	                                   e: STLR data[c] (commit, from d)
//
//     With a plain LDR at c, S's data load d depends on c only through
//     the branch to divert, and ARMv8 may satisfy a load behind a branch
//     before the load the branch depends on (control dependencies do not
//     order load->load): d can read k, the value before a, while c reads
//     the 0 that b wrote. S then commits a value computed from k over F's
//     k-1: a lost update (a handle popped twice by Pop against PopRemote,
//     a lost RWMutex count, two holders of a Locks lock, an overwritten
//     Ring record). With LDAR at c, a load-acquire that reads from the
//     store-release b synchronizes with it: a is visible to d, which reads
//     k-1 (or later), and the outcome "c = 0 from b, d = k" is forbidden.
//     If c reads a 0 older than F's increment instead, S began before F's
//     fence completed, and the fence (membarrier RSEQ) aborts it or waits
//     until it committed before F touched the data; a section that starts
//     after the fence reads fbActive != 0 (membarrier orders F's increment
//     before it returns) and diverts. x86 needs none of this: loads are
//     not reordered with older loads under TSO.
//   - the words a section works on: written only by sections on this CPU
//     (program order on one CPU; a context switch is a full barrier) and by
//     fallback operations (ordered by fbActive's acquire, above). rsAdd,
//     rsPop, rsPush and rsCopy load them plainly.
//   - rsCAS and rsCASGuarded load the word they compare with LDAR (acquire):
//     Locks.TryLock takes a lock with rsCAS, and the holder's later reads
//     must not be satisfied before it saw the 0 that the unlocker's atomic
//     compare-and-swap stored. CAS2's guard load is LDAR too, so it is
//     ordered after the word's, as on x86 (the guard is shared memory that
//     other CPUs write with atomics).
//   - rsCopy's source bytes are the caller's, read after the compare.
//
// Stores: every commit is STLR (release): everything the section and the
// code before it did (Push's slot, CopyAndStore's bytes, a reader's loads
// before RUnlock's count, a lock holder's writes before Unlock) is visible
// to another CPU before the commit is, to readers that load the committed
// word with an acquire (sync/atomic loads are LDAR). A plain STR would do
// for a counter; STLR costs little more on current cores and keeps one
// rule for every primitive. Speculative stores before the commit (Push's
// slot, rsCopy's bytes) depend on the loads before them through addresses
// and branches, and stores are never speculated past an unresolved branch.
//
// Registers (all primitives): R0 area, R1 scratch, R2 s, R3 want, R4 off,
// R6 index, R7 block, R9 &block[off], R8 the word's value. No section
// contains a call, a syscall or a stack access; R27 (REGTMP) is left to
// the assembler for the ·symbol(SB) loads.

#define MARK_START	WORD $0xaa1fc7ff	// orr xzr, xzr, xzr, lsl #49
#define MARK_POST	WORD $0xaa1fcfff	// orr xzr, xzr, xzr, lsl #51
#define MARK_END	WORD $0xaa1fd3ff	// orr xzr, xzr, xzr, lsl #52
#define SIGNATURE	WORD $0xd428bc00	// brk #0x45e0

// Test builds (see delay_linux_test.go and engine_linux_amd64.s); normal
// builds contain none of this code.
//
// DELAY: with -D=RSEQ_DELAY, spin sectionDelay+1 iterations on R15
// (unused by every section), just before the commit, to widen the window
// in which preemption, signals and other CPUs can interfere with a section.
//
// PROBE and COUNT: in the same builds, load rseq_cs into R15 just before
// the commit (inside the section) and, after the section, count the
// commits that found it 0 (the section ran unprotected) in unarmedCommits.
// The count is a plain read-modify-write (no LSE atomics needed): tests
// only ask whether it stayed 0.
//
// GAP: with -D=RSEQ_GAP (which implies RSEQ_DELAY), spin on R1 between the
// store that arms the section and start_ip, the layout bug of issue 10
// item 1 widened; findSection accepts that layout only in this build.
#ifdef RSEQ_GAP
#define RSEQ_DELAY
#define GAP \
	MOVD	·sectionDelay(SB), R1; \
	SUBS	$1, R1, R1; \
	BGE	-1(PC)	/* back to the SUBS */
#else
#define GAP
#endif

#ifdef RSEQ_DELAY
#define DELAY \
	MOVD	·sectionDelay(SB), R15; \
	SUBS	$1, R15, R15; \
	BGE	-1(PC)	/* back to the SUBS */
#define PROBE \
	MOVD	const_offRseqCS(R0), R15
#define COUNT \
	CBNZ	R15, probed; \
	MOVD	$·unarmedCommits(SB), R1; \
	MOVD	(R1), R15; \
	ADD	$1, R15, R15; \
	MOVD	R15, (R1); \
probed:
#else
#define DELAY
#define PROBE
#define COUNT
#endif

// ARM(k): R0 = this thread's area; area.rseq_cs = descs[k]. Clobbers R1.
// Its last instruction, the store to rseq_cs, arms the section, and the
// instruction right after it is start_ip: nothing may run between the two
// (an interrupt there would find rseq_cs armed with the PC outside the
// section, clear it, and the section would run unprotected). So every
// argument is loaded before ARM, and MARK_START, the first instruction of
// the section, follows it directly; findSection checks that the word
// before start_ip is this store.
#define ARM(k) \
	THREAD_AREA(R0, R1); \
	MOVD	·descs+(8*k)(SB), R1; \
	MOVD	R1, const_offRseqCS(R0); \
	GAP

// ENTER(unreg, wrong, divert): the first instructions of every section
// that takes an explicit index or Current. In: R0 area, R2 s, R3 want.
// Out: R6 = index, R7 = base + index*stride. Clobbers R1. Leaves for unreg
// (no usable index), wrong (an explicit index that is not this one) or
// divert (a fallback operation is running). The CSEL makes R1 = (want < 0
// ? index : want), so one compare checks an explicit index and passes the
// current one. fbActive is loaded with LDARW (acquire): see "Memory
// ordering" above.
#define ENTER(unreg, wrong, divert) \
	MOVD	blocks_idOff(R2), R1; \
	MOVWU	(R0)(R1), R6; \
	MOVD	blocks_n(R2), R1; \
	CMP	R1, R6; \
	BHS	unreg; \
	CMP	$0, R3; \
	CSEL	LT, R6, R3, R1; \
	CMP	R1, R6; \
	BNE	wrong; \
	MOVD	$·fbActive(SB), R1; \
	LDARW	(R1), R1; \
	CBNZW	R1, divert; \
	MOVD	blocks_stride(R2), R1; \
	MOVD	blocks_base(R2), R7; \
	MADD	R1, R7, R6, R7

// ENTER_CUR(slow): the first instructions of a section on the current
// index. In: R0 area, R2 s. Out: R6 = index, R7 = base + index*stride.
// Clobbers R1. Leaves for slow when the thread has no usable index or a
// fallback operation is running (fbActive loaded with LDARW, as in ENTER).
#define ENTER_CUR(slow) \
	MOVD	blocks_idOff(R2), R1; \
	MOVWU	(R0)(R1), R6; \
	MOVD	blocks_n(R2), R1; \
	CMP	R1, R6; \
	BHS	slow; \
	MOVD	$·fbActive(SB), R1; \
	LDARW	(R1), R1; \
	CBNZW	R1, slow; \
	MOVD	blocks_stride(R2), R1; \
	MOVD	blocks_base(R2), R7; \
	MADD	R1, R7, R6, R7

// CHECK_ARGS(slow): the fast entry points' argument check, before the
// section: off (R4) an aligned word inside the block, and want (R3) in
// [-1, n) on memory sections may run on (lim = n+1; 0 sends every call to
// the slow path). Rotating off right by 3 moves a misaligned offset's low
// bits to the top, so one unsigned compare with the last word's index
// checks both alignment and range. Clobbers R1 and R10.
#define CHECK_ARGS(slow) \
	ROR	$3, R4, R1; \
	MOVD	blocks_lastWord(R2), R10; \
	CMP	R10, R1; \
	BHI	slow; \
	ADD	$1, R3, R1; \
	MOVD	blocks_lim(R2), R10; \
	CMP	R10, R1; \
	BHS	slow

// EXITS(v, i, s): the one exit tail of a primitive that returns (val, id,
// st) at val+v(FP), id+i(FP) and st+s(FP). Entered at out with R8 = val,
// R6 = id and R1 = the status, or at one of the labels, which set them:
// fail and corrupt keep R8 (the value found, the count), wrong keeps R6 (the
// index the thread is on), the others report no value and index -1. The
// abort handler (abort_ip, right after the signature) is the instruction
// after SIGNATURE. Clobbers R1, R6, R8.
#define EXITS(v, i, s) \
out: \
	MOVD	R8, val+v(FP); \
	MOVD	R6, id+i(FP); \
	MOVD	R1, st+s(FP); \
	RET; \
fail: \
	MOVD	$const_stFailed, R1; \
	JMP	out; \
corrupt: \
	MOVD	$const_stCorrupt, R1; \
	JMP	out; \
wrong: \
	MOVD	ZR, R8; \
	MOVD	$const_stWrongCPU, R1; \
	JMP	out; \
unreg: \
	MOVD	$const_stUnregistered, R1; \
	JMP	none; \
divert: \
	MOVD	$const_stDiverted, R1; \
	JMP	none; \
	SIGNATURE; \
	MOVD	$const_stAborted, R1; \
none: \
	MOVD	ZR, R8; \
	MOVD	$-1, R6; \
	JMP	out

// func rsAdd(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)
// *(block+off) += delta; val = the new value.
// Registers: R5 delta.
TEXT ·rsAdd(SB), NOSPLIT, $0-56
	MOVD	s+0(FP), R2
	MOVD	want+8(FP), R3
	MOVD	off+16(FP), R4
	MOVD	delta+24(FP), R5
	ARM(0)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	ADD	R4, R7, R9
	MOVD	(R9), R8
	ADD	R5, R8, R8
	DELAY
	PROBE
	STLR	R8, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	$const_stCommitted, R1
	EXITS(32, 40, 48)
	MARK_END

// func rsCAS(s *blocks, want int, off uintptr, old, nv uint64) (val uint64, id int, st int)
// if *(block+off) == old { *(block+off) = nv }; val = the value found.
// Registers: R5 old, R10 nv.
TEXT ·rsCAS(SB), NOSPLIT, $0-64
	MOVD	s+0(FP), R2
	MOVD	want+8(FP), R3
	MOVD	off+16(FP), R4
	MOVD	old+24(FP), R5
	MOVD	nv+32(FP), R10
	ARM(1)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	ADD	R4, R7, R9
	LDAR	(R9), R8	// acquire: a lock taken here orders the holder's reads
	CMP	R5, R8
	BNE	fail
	DELAY
	PROBE
	STLR	R10, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	$const_stCommitted, R1
	EXITS(40, 48, 56)
	MARK_END

// func rsCASGuarded(s *blocks, want int, off uintptr, old, nv uint64, guard *uint64, gval uint64) (val uint64, id int, st int)
// if *(block+off) == old && *guard == gval { *(block+off) = nv }; val =
// the value found at block+off.
// Registers: R5 old, R10 nv, R11 guard, R12 gval, R13 the guard's value.
TEXT ·rsCASGuarded(SB), NOSPLIT, $0-80
	MOVD	s+0(FP), R2
	MOVD	want+8(FP), R3
	MOVD	off+16(FP), R4
	MOVD	old+24(FP), R5
	MOVD	nv+32(FP), R10
	MOVD	guard+40(FP), R11
	MOVD	gval+48(FP), R12
	ARM(2)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	ADD	R4, R7, R9
	LDAR	(R9), R8	// acquire, as in rsCAS
	CMP	R5, R8
	BNE	fail
	LDAR	(R11), R13	// second guard, ordered after the first load
	CMP	R12, R13
	BNE	fail
	DELAY
	PROBE
	STLR	R10, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	$const_stCommitted, R1
	EXITS(56, 64, 72)
	MARK_END

// func rsPop(s *blocks, want int, off, arrOff, capacity uintptr) (val uint64, id int, st int)
// A per-index LIFO: a count at block+off and capacity words at
// block+arrOff. if count == 0: stFailed; if count > capacity: stCorrupt;
// else val = arr[count-1] and count-- (the commit).
// Registers: R5 arrOff, R10 capacity, R11 &arr[0], R13 value.
TEXT ·rsPop(SB), NOSPLIT, $0-64
	MOVD	s+0(FP), R2
	MOVD	want+8(FP), R3
	MOVD	off+16(FP), R4
	MOVD	arrOff+24(FP), R5
	MOVD	capacity+32(FP), R10
	ARM(3)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	ADD	R4, R7, R9
	MOVD	(R9), R8
	CBZ	R8, fail	// empty
	CMP	R10, R8
	BHI	corrupt	// a count past the array: never index with it
	SUB	$1, R8, R8
	ADD	R5, R7, R11
	MOVD	(R11)(R8<<3), R13
	DELAY
	PROBE
	STLR	R8, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	R13, R8
	MOVD	$const_stCommitted, R1
	EXITS(40, 48, 56)
	MARK_END

// func rsPush(s *blocks, want int, off, arrOff, capacity uintptr, v uint64) (val uint64, id int, st int)
// The push of rsPop's LIFO: if count == capacity: stFailed (full); if
// count > capacity: stCorrupt; else arr[count] = v (speculative: the slot
// is not live until the count covers it) and count++ (the commit, a
// release: the slot is visible before the count that covers it); val =
// the new count.
// Registers: R5 arrOff, R10 capacity, R12 v, R11 &arr[0].
TEXT ·rsPush(SB), NOSPLIT, $0-72
	MOVD	s+0(FP), R2
	MOVD	want+8(FP), R3
	MOVD	off+16(FP), R4
	MOVD	arrOff+24(FP), R5
	MOVD	capacity+32(FP), R10
	MOVD	v+40(FP), R12
	ARM(4)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	ADD	R4, R7, R9
	MOVD	(R9), R8
	CMP	R10, R8
	BHI	corrupt
	BEQ	fail	// full
	ADD	R5, R7, R11
	MOVD	R12, (R11)(R8<<3)	// speculative store
	ADD	$1, R8, R8
	DELAY
	PROBE
	STLR	R8, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	$const_stCommitted, R1
	EXITS(48, 56, 64)
	MARK_END

// func rsCopy(s *blocks, want int, off uintptr, expect uint64, dstOff uintptr, src unsafe.Pointer, n uintptr, nv uint64) (val uint64, id int, st int)
// if *(block+off) == expect { copy n bytes from src to block+dstOff
// (speculative); *(block+off) = nv (the commit, a release: the bytes are
// visible before the word) }; val = the value found.
// n is at most MaxCopy (checked by the caller).
// Registers: R5 expect, R10 dstOff then the destination cursor, R11 source
// cursor, R12 bytes left, R13 nv, R14 the copied word.
TEXT ·rsCopy(SB), NOSPLIT, $0-88
	MOVD	s+0(FP), R2
	MOVD	want+8(FP), R3
	MOVD	off+16(FP), R4
	MOVD	expect+24(FP), R5
	MOVD	dstOff+32(FP), R10
	MOVD	src+40(FP), R11
	MOVD	n+48(FP), R12
	MOVD	nv+56(FP), R13
	ARM(5)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(unreg, wrong, divert)
	ADD	R4, R7, R9
	MOVD	(R9), R8
	CMP	R5, R8
	BNE	fail
	ADD	R7, R10, R10
copy8:
	CMP	$8, R12
	BLO	copy1
	MOVD.P	8(R11), R14
	MOVD.P	R14, 8(R10)	// speculative
	SUB	$8, R12, R12
	B	copy8
copy1:
	CBZ	R12, copied
	MOVBU.P	1(R11), R14
	MOVB.P	R14, 1(R10)	// speculative
	SUB	$1, R12, R12
	B	copy1
copied:
	DELAY
	PROBE
	STLR	R13, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	R5, R8
	MOVD	$const_stCommitted, R1
	EXITS(64, 72, 80)
	MARK_END

// Fast entry points: see engine_linux_amd64.s. Each finishes its
// operation, jumping to a Go function with the same arguments for anything
// its section does not do.

// func rsAddFast(s *blocks, want int, off uintptr, delta uint64) (val uint64, id int, st int)
// PerCPU.Add: as rsAdd, but st is only stCommitted or stWrongCPU; the rest
// goes on in addSlow.
// Registers: R5 delta.
TEXT ·rsAddFast(SB), NOSPLIT, $0-56
	MOVD	s+0(FP), R2
	MOVD	want+8(FP), R3
	MOVD	off+16(FP), R4
	MOVD	delta+24(FP), R5
	CHECK_ARGS(slow)
	ARM(6)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER(slow, wrong, slow)
	ADD	R4, R7, R9
	MOVD	(R9), R8
	ADD	R5, R8, R8
	DELAY
	PROBE
	STLR	R8, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	R8, val+32(FP)
	MOVD	R6, id+40(FP)
	MOVD	ZR, st+48(FP)	// stCommitted
	RET
wrong:
	MOVD	ZR, val+32(FP)
	MOVD	R6, id+40(FP)
	MOVD	$const_stWrongCPU, R1
	MOVD	R1, st+48(FP)
	RET
slow:
	JMP	·addSlow(SB)
	SIGNATURE
	// abort_ip
	JMP	·addAborted(SB)
	MARK_END

// func rsCellAdd(c *cell, delta uint64)
// *(block of the current index + c.off) += delta. A zero cell, memory the
// engine does not run on and every other case go on in cellAddSlow.
// Registers: R11 c, R2 s, R4 off, R5 delta, R6 index, R7 block, R9 the
// word's address, R8 its value.
TEXT ·rsCellAdd(SB), NOSPLIT, $0-16
	MOVD	c+0(FP), R11
	MOVD	delta+8(FP), R5
	LDAR	(R11), R2	// c.s, acquire: a zero cell publishes off before s
	MOVD	cell_off(R11), R4
	CBZ	R2, slow	// a zero cell
	MOVD	blocks_lim(R2), R1
	CBZ	R1, slow	// no sections on this memory
	ARM(7)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER_CUR(slow)
	ADD	R4, R7, R9
	MOVD	(R9), R8
	ADD	R5, R8, R8
	DELAY
	PROBE
	STLR	R8, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	RET
slow:
	JMP	·cellAddSlow(SB)
	SIGNATURE
	// abort_ip
	JMP	·cellAddAborted(SB)
	MARK_END

// func rsFloatAdd(s *blocks, off uintptr, v float64)
// The float64 at (block of the current index + off) += v: Histogram's sum.
// off is checked by the caller. Memory the engine does not run on and
// every other case go on in floatAddSlow.
// Registers: R2 s, R4 off, F1 v, R9 the word's address, F0 the sum, R8
// its bits.
TEXT ·rsFloatAdd(SB), NOSPLIT, $0-24
	MOVD	s+0(FP), R2
	MOVD	off+8(FP), R4
	FMOVD	v+16(FP), F1
	MOVD	blocks_lim(R2), R1
	CBZ	R1, slow	// no sections on this memory
	ARM(8)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER_CUR(slow)
	ADD	R4, R7, R9
	FMOVD	(R9), F0
	FADDD	F1, F0, F0
	FMOVD	F0, R8
	DELAY
	PROBE
	STLR	R8, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	RET
slow:
	JMP	·floatAddSlow(SB)
	SIGNATURE
	// abort_ip
	JMP	·floatAddAborted(SB)
	MARK_END

// func rsStackPop(st *stack) (v uint64, ok bool)
// Pop from the caller's block of a per-CPU LIFO (see rsPop): ok is false
// when it is empty. A count past the capacity, memory the engine does not
// run on and every other case go on in stackPopSlow.
// Registers: R11 st, R2 s, R4 countOff, R5 arrOff, R10 capacity, R9 the
// count's address, R8 count, R12 &arr[0], R13 value.
TEXT ·rsStackPop(SB), NOSPLIT, $0-17
	MOVD	st+0(FP), R11
	MOVD	stack_s(R11), R2
	MOVD	stack_countOff(R11), R4
	MOVD	stack_arrOff(R11), R5
	MOVD	stack_capacity(R11), R10
	MOVD	blocks_lim(R2), R1
	CBZ	R1, slow	// no sections on this memory
	ARM(9)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER_CUR(slow)
	ADD	R4, R7, R9
	MOVD	(R9), R8
	CBZ	R8, empty
	CMP	R10, R8
	BHI	slow	// a count past the array: the slow path reports it
	SUB	$1, R8, R8
	ADD	R5, R7, R12
	MOVD	(R12)(R8<<3), R13
	DELAY
	PROBE
	STLR	R8, (R9)	// commit
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	R13, v+8(FP)
	MOVD	$1, R1
	MOVB	R1, ok+16(FP)
	RET
empty:
	MOVD	stack_empty(R11), R1	// R11 is still st here
	CBNZ	R1, refill
	MOVD	ZR, v+8(FP)
	MOVB	ZR, ok+16(FP)
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
// Registers: R11 st, R2 s, R4 countOff, R5 arrOff, R10 capacity, R13 v,
// R9 the count's address, R8 count, R12 &arr[0].
TEXT ·rsStackPush(SB), NOSPLIT, $0-17
	MOVD	st+0(FP), R11
	MOVD	v+8(FP), R13
	MOVD	stack_s(R11), R2
	MOVD	stack_countOff(R11), R4
	MOVD	stack_arrOff(R11), R5
	MOVD	stack_capacity(R11), R10
	MOVD	blocks_lim(R2), R1
	CBZ	R1, slow	// no sections on this memory
	ARM(10)
	// ---- section begins (start_ip: this marker, right after the arming store) ----
	MARK_START
	ENTER_CUR(slow)
	ADD	R4, R7, R9
	MOVD	(R9), R8
	CMP	R10, R8
	BHI	slow	// a count past the array: the slow path reports it
	BEQ	full
	ADD	R5, R7, R12
	MOVD	R13, (R12)(R8<<3)	// speculative store
	ADD	$1, R8, R8
	DELAY
	PROBE
	STLR	R8, (R9)	// commit: a release, so the slot is visible before the count
	MARK_POST
	// ---- section ends (post_commit_ip) ----
	COUNT
	MOVD	$1, R1
	MOVB	R1, ok+16(FP)
	RET
full:
	MOVD	stack_full(R11), R1	// R11 is still st here
	CBNZ	R1, spill
	MOVB	ZR, ok+16(FP)
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
	MOVD	p+0(FP), R0
	MOVD	$·rsAdd(SB), R1
	MOVD	R1, 0(R0)
	MOVD	$·rsCAS(SB), R1
	MOVD	R1, 8(R0)
	MOVD	$·rsCASGuarded(SB), R1
	MOVD	R1, 16(R0)
	MOVD	$·rsPop(SB), R1
	MOVD	R1, 24(R0)
	MOVD	$·rsPush(SB), R1
	MOVD	R1, 32(R0)
	MOVD	$·rsCopy(SB), R1
	MOVD	R1, 40(R0)
	MOVD	$·rsAddFast(SB), R1
	MOVD	R1, 48(R0)
	MOVD	$·rsCellAdd(SB), R1
	MOVD	R1, 56(R0)
	MOVD	$·rsFloatAdd(SB), R1
	MOVD	R1, 64(R0)
	MOVD	$·rsStackPop(SB), R1
	MOVD	R1, 72(R0)
	MOVD	$·rsStackPush(SB), R1
	MOVD	R1, 80(R0)
	RET

// func sectionDelayBuilt() bool: whether DELAY is compiled in.
TEXT ·sectionDelayBuilt(SB), NOSPLIT, $0-1
#ifdef RSEQ_DELAY
	MOVD	$1, R0
#else
	MOVD	$0, R0
#endif
	MOVB	R0, ret+0(FP)
	RET

// func sectionGapBuilt() bool: whether GAP is compiled in (-D=RSEQ_GAP).
TEXT ·sectionGapBuilt(SB), NOSPLIT, $0-1
#ifdef RSEQ_GAP
	MOVD	$1, R0
#else
	MOVD	$0, R0
#endif
	MOVB	R0, ret+0(FP)
	RET
