package rseq

import (
	"strconv"
	"strings"
)

// kernelVersion is the upstream version in a kernel release string (uname
// -r): major.minor.patch, and rc > 0 for a release candidate.
type kernelVersion struct {
	major, minor, patch, rc int
}

// parseKernelRelease reads the upstream version at the start of a release
// string: "7.2.13+deb14-cloud-arm64", "6.19.0-rc5", "7.1-rc2",
// "7.0.0-14-generic", "6.1.0-56-cloud-amd64". A missing patch level is 0;
// "-rcN" right after the numbers marks a release candidate. ok is false
// when the string does not start with major.minor.
func parseKernelRelease(s string) (v kernelVersion, ok bool) {
	num := func() (int, bool) {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(s[:i])
		s = s[i:]
		return n, err == nil
	}
	if v.major, ok = num(); !ok || !strings.HasPrefix(s, ".") {
		return kernelVersion{}, false
	}
	s = s[1:]
	if v.minor, ok = num(); !ok {
		return kernelVersion{}, false
	}
	if strings.HasPrefix(s, ".") {
		s = s[1:]
		if v.patch, ok = num(); !ok {
			return kernelVersion{}, false
		}
	}
	if strings.HasPrefix(s, "-rc") {
		s = s[3:]
		if rc, ok := num(); ok && rc > 0 {
			v.rc = rc
		}
	}
	return v, true
}

// before reports whether v comes before w (a release candidate comes
// before its release).
func (v kernelVersion) before(w kernelVersion) bool {
	a := [...]int{v.major, v.minor, v.patch, rcOrder(v.rc)}
	b := [...]int{w.major, w.minor, w.patch, rcOrder(w.rc)}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func rcOrder(rc int) int {
	if rc == 0 {
		return 1 << 30 // the release sorts after all its candidates
	}
	return rc
}

// brokenKernel reports whether the kernel release is one whose rseq is
// known not to keep the contract this library relies on, for the
// architecture arch.
//
// arm64, 6.19 up to the fix: the rseq rework merged for 6.19 (commit
// 2b09f480f0a1 and its series) left arm64, which does not use the generic
// entry code, aborting critical sections only on migration, not on
// preemption by another thread on the same CPU (reported on LKML on
// 2026-04-22, "[REGRESSION] rseq: refactoring in v6.19 broke everyone on
// arm64 and tcmalloc everywhere", with a test that fails on arm64 6.19
// only). Sections would then commit after another thread changed their
// CPU's data: silent corruption, not a crash. The fix went into 7.1-rc3
// and was backported to 7.0.y. How the range was decided:
//   - refused from 6.19.0 on, every 6.19.y included: no 6.19.y backport was
//     found, and 6.19 ended its stable life around the time of the fix;
//   - 7.0.y: refused before 7.0.14. MongoDB, whose startup check was the
//     most careful public record found, first refused 6.19+, then changed
//     it (mongodb/mongo commit 19a7dfe) to refuse exactly 6.19.0 through
//     7.0.13; its tracker said in July 2026 that the generic rseq fixes
//     were in 7.0.10 but the arm64 one still pending, and its release
//     notes name 7.0.14 as the first fixed 7.0.y. The stable changelog
//     itself was not available here: 7.0.14 is that inference, and erring
//     late only costs speed (the fallback), never correctness;
//   - 7.1: release candidates before rc3 refused, 7.1.0 and later allowed.
//
// Distribution kernels that carry the fix under an older version number
// are refused all the same (GORSEQ cannot override this: a wrong answer
// here corrupts data).
func brokenKernel(arch, release string) bool {
	if arch != "arm64" {
		return false
	}
	v, ok := parseKernelRelease(release)
	if !ok {
		return false // unknown: the registration and the tests decide
	}
	switch {
	case v.before(kernelVersion{6, 19, 0, 1}): // before 6.19-rc1
		return false
	case v.before(kernelVersion{7, 0, 14, 0}):
		return true
	case v.major == 7 && v.minor == 0:
		return false // 7.0.14 and later
	}
	return v.before(kernelVersion{7, 1, 0, 3}) // 7.1-rc1, 7.1-rc2
}
