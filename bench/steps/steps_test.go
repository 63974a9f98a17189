//go:build amd64

package steps

import (
	"testing"
	"unsafe"
)

var sink uint64

func setup() *blocks {
	mem := make([]uint64, 64*8)
	areaOff = uintptr(unsafe.Pointer(&area[0]))
	return &blocks{base: unsafe.Pointer(&mem[0]), stride: 64 * 8, n: 2, idOff: 4, lim: 3, lastWord: 63}
}

// TestSteps: every step adds 1 to the word and reports CPU 0 committed (the
// experiment measures working code).
func TestSteps(t *testing.T) {
	for i, f := range []func(*blocks, int, uintptr, uint64) (uint64, int, int){e1data, e2index, e3arm, e4checks, e5markers} {
		s := setup()
		for want := uint64(1); want <= 3; want++ {
			v, id, st := f(s, -1, 8, 1)
			if v != want || id != 0 || st != 0 {
				t.Fatalf("step %d: got (%d, %d, %d), want (%d, 0, 0)", i+1, v, id, st, want)
			}
		}
	}
}

// BenchmarkSteps: one goroutine, the steps from the call floor to
// rsAddFast's instructions.
func BenchmarkSteps(b *testing.B) {
	s := setup()
	for _, c := range []struct {
		name string
		f    func(*blocks, int, uintptr, uint64) (uint64, int, int)
	}{
		{"step=0-floor", e0floor},
		{"step=1-data", e1data},
		{"step=2-index", e2index},
		{"step=3-thread-area+arm", e3arm},
		{"step=4-arg-checks", e4checks},
		{"step=5-markers", e5markers},
	} {
		b.Run(c.name, func(b *testing.B) {
			var acc uint64
			for range b.N {
				v, _, _ := c.f(s, -1, 8, 1)
				acc += v
			}
			sink = acc
		})
	}
}
