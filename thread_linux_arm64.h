// THREAD_AREA(Rd, Rt): Rd = this thread's rseq area (or a stand-in),
// TPIDR_EL0 + g.m.tls[1] + areaOff; clobbers Rt. One computation for every
// registration mode (see thread_linux_arm64.go):
//   - with a C library, TPIDR_EL0 is its thread pointer, m.tls[1] is 0
//     (unused by the runtime on linux/arm64; this library never writes it
//     there) and areaOff is __rseq_offset or the shim's TLS offset;
//   - in pure Go, TPIDR_EL0 is 0 on every thread (the runtime never sets
//     it, exec clears it, clone copies it), and m.tls[1] is the registered
//     area minus areaOff, or 0 on a new M, which lands on unsetArea.
// g (R28) is the current goroutine; its M cannot change inside an assembly
// function (no safe points), so the two loads see one thread's M.
#define THREAD_AREA(Rd, Rt) \
	MRS	TPIDR_EL0, Rd; \
	MOVD	const_gM(g), Rt; \
	MOVD	const_mTLS1(Rt), Rt; \
	ADD	Rt, Rd, Rd; \
	MOVD	·areaOff(SB), Rt; \
	ADD	Rt, Rd, Rd
