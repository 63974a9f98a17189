package abi

import "testing"

func TestRegistrationLength(t *testing.T) {
	for _, c := range []struct{ fs, align, area, want int }{
		{0, 0, 128, 32},   // before 6.3: no auxv entries
		{28, 32, 128, 32}, // 6.3 - 6.19
		{33, 64, 128, 64}, // 7.0+: V2
		{33, 64, 32, 32},  // an area too small for V2 stays legacy
		{65, 64, 128, 128},
		{33, 0, 128, 64}, // alignment below 32 counts as 32
	} {
		if got := RegistrationLength(c.fs, c.align, c.area); got != c.want {
			t.Errorf("RegistrationLength(%d, %d, %d) = %d, want %d", c.fs, c.align, c.area, got, c.want)
		}
	}
}
