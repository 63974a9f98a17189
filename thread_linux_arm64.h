// THREAD_AREA(Rd, Rt): Rd = this thread's rseq area (or a stand-in),
// (TPIDR_EL0 & tpMask) + g.m.tls[1] + areaOff; clobbers Rt. One sequence
// for every registration mode (thread_linux.go):
//   - regLibc: tpMask is all ones and TPIDR_EL0 the C library's thread
//     pointer; m.tls[1] is 0 (this library never writes it there) and
//     areaOff is __rseq_offset;
//   - regOwn: tpMask is 0 (TPIDR_EL0 is 0 in pure Go anyway, and the C
//     library's with cgo), m.tls[1] is the registered area minus areaOff,
//     or 0 on a new M, which lands on unsetArea.
// g (R28) is the current goroutine; its M cannot change inside an assembly
// function (no safe points), so the loads see one thread's M.
#define THREAD_AREA(Rd, Rt) \
	MRS	TPIDR_EL0, Rd; \
	MOVD	·tpMask(SB), Rt; \
	AND	Rt, Rd, Rd; \
	MOVD	const_gM(g), Rt; \
	MOVD	const_mTLS1(Rt), Rt; \
	ADD	Rt, Rd, Rd; \
	MOVD	·areaOff(SB), Rt; \
	ADD	Rt, Rd, Rd
