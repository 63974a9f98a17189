//go:build cgo && rseqcgo

package rseq

// With -tags rseqcgo (and cgo on), the test binary links the C library
// through runtime/cgo, as any program does whose other packages use cgo:
// the suite then runs in the libc modes (glibc's area, or this library's
// own areas reached through g.m when glibc's rseq is off or missing).
// Package rseq itself never uses cgo.
import _ "runtime/cgo"
