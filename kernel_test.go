package rseq

import "testing"

func TestParseKernelRelease(t *testing.T) {
	cases := []struct {
		in   string
		want kernelVersion
		ok   bool
	}{
		{"7.2.13+deb14-cloud-arm64", kernelVersion{7, 2, 13, 0}, true},
		{"6.1.0-56-cloud-amd64", kernelVersion{6, 1, 0, 0}, true},
		{"7.0.0-14-generic", kernelVersion{7, 0, 0, 0}, true},
		{"6.19.0-rc5", kernelVersion{6, 19, 0, 5}, true},
		{"7.1-rc2", kernelVersion{7, 1, 0, 2}, true},
		{"7.1.0-rc3-arm64", kernelVersion{7, 1, 0, 3}, true},
		{"6.18", kernelVersion{6, 18, 0, 0}, true},
		{"6.18.12-arch1-1", kernelVersion{6, 18, 12, 0}, true},
		{"5.15.0-1060-aws", kernelVersion{5, 15, 0, 0}, true},
		{"7.0.14", kernelVersion{7, 0, 14, 0}, true},
		{"4.19.0-rc", kernelVersion{4, 19, 0, 0}, true}, // no number: not a candidate
		{"", kernelVersion{}, false},
		{"linux", kernelVersion{}, false},
		{"7", kernelVersion{}, false},
		{"7.", kernelVersion{}, false},
		{"7.x", kernelVersion{}, false},
		{"7.1.", kernelVersion{}, false},
	}
	for _, c := range cases {
		got, ok := parseKernelRelease(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseKernelRelease(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestBrokenKernel(t *testing.T) {
	cases := []struct {
		arch, release string
		broken        bool
	}{
		{"arm64", "6.18.20-cloud-arm64", false},
		{"arm64", "6.18", false},
		{"arm64", "6.19.0-rc1", true},
		{"arm64", "6.19", true},
		{"arm64", "6.19.0-1-arm64", true},
		{"arm64", "6.19.14", true},
		{"arm64", "7.0.0-14-generic", true},
		{"arm64", "7.0.10", true},
		{"arm64", "7.0.13+deb14-arm64", true},
		{"arm64", "7.0.14", false},
		{"arm64", "7.0.28", false},
		{"arm64", "7.1-rc1", true},
		{"arm64", "7.1.0-rc2", true},
		{"arm64", "7.1.0-rc3", false},
		{"arm64", "7.1", false},
		{"arm64", "7.1.5-arch1-1", false},
		{"arm64", "7.2.13+deb14-cloud-arm64", false},
		{"arm64", "8.0", false},
		{"arm64", "5.10.0-30-arm64", false},
		{"arm64", "garbage", false},
		{"arm64", "", false},
		{"amd64", "6.19.0", false},
		{"amd64", "7.0.0-14-generic", false},
		{"riscv64", "7.0.1", false},
	}
	for _, c := range cases {
		if got := brokenKernel(c.arch, c.release); got != c.broken {
			t.Errorf("brokenKernel(%q, %q) = %v, want %v", c.arch, c.release, got, c.broken)
		}
	}
}
