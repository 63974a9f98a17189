// THREAD_AREA(Rd): Rd = this thread's rseq area (or a stand-in). One
// sequence for every registration mode (thread_linux.go): the key is 0(FS)
// (m.tls[1] in pure Go, the C library's thread pointer in regLibc) or,
// with areaViaM (a C library owns FS, this library registers), g.m.tls[1];
// plus areaOff. The branch on areaViaM goes the same way for the life of
// the process. g cannot change M inside an assembly function (no safe
// points), so the loads see one thread's M.
#define THREAD_AREA(Rd) \
	MOVQ	0(FS), Rd; \
	CMPB	·areaViaM(SB), $0; \
	JEQ	areaKey; \
	MOVQ	(TLS), Rd	/* g */; \
	MOVQ	const_gM(Rd), Rd; \
	MOVQ	const_mTLS1(Rd), Rd; \
areaKey: \
	ADDQ	·areaOff(SB), Rd
