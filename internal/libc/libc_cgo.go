//go:build cgo && linux

package libc

/*
#include <stddef.h>
#include <stdint.h>

// Weak: a C library without them (musl, glibc before 2.35) still links, and
// their address is then NULL.
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

// The area package rseq registers itself when the C library did not. The TLS
// image gives every new thread cpu_id = mm_cid = 0xFFFFFFFF ("not
// registered"); the kernel overwrites them when the thread registers, and
// nothing in user space writes them afterwards.
struct gorseq_area {
	uint32_t cpu_id_start;
	uint32_t cpu_id;
	uint64_t rseq_cs;
	uint32_t flags;
	uint32_t node_id;
	uint32_t mm_cid;
	uint32_t slice_ctrl;
	uint8_t  rest[96];
} __attribute__((aligned(64)));

static __thread struct gorseq_area gorseq_own_area
	__attribute__((tls_model("initial-exec"))) = {
	.cpu_id = 0xFFFFFFFFu,
	.node_id = 0xFFFFFFFFu,
	.mm_cid = 0xFFFFFFFFu,
};

static int gorseq_has_symbols(void) { return &__rseq_size != NULL && &__rseq_offset != NULL; }
static long gorseq_offset(void) { return gorseq_has_symbols() ? (long)__rseq_offset : 0; }
static unsigned gorseq_size(void) { return gorseq_has_symbols() ? __rseq_size : 0; }
static long gorseq_own_offset(void) {
	return (long)((char *)&gorseq_own_area - (char *)__builtin_thread_pointer());
}
static unsigned gorseq_own_size(void) { return sizeof(struct gorseq_area); }
*/
import "C"

// Read returns the C library's rseq state.
func Read() State {
	s := State{
		Linked:    true,
		Offset:    int64(C.gorseq_offset()),
		Size:      uint32(C.gorseq_size()),
		OwnOffset: int64(C.gorseq_own_offset()),
		OwnSize:   uint32(C.gorseq_own_size()),
	}
	s.Registered = s.Size > 0
	return s
}
