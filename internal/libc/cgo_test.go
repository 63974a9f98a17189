//go:build cgo && libccgo

package libc

// With -tags libccgo (and cgo on), the test binary links the C library
// through runtime/cgo, as a program that uses cgo elsewhere does, so the
// lookup runs against the real dynamic loader.
import _ "runtime/cgo"
