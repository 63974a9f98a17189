package rseq

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestInfoConsistent checks what Info says against itself and the kernel.
func TestInfoConsistent(t *testing.T) {
	in := ReadInfo()
	t.Logf("\n%s", in)
	if in.OS != runtime.GOOS || in.Arch != runtime.GOARCH {
		t.Errorf("platform %s/%s", in.OS, in.Arch)
	}
	if in.PossibleCPUs < runtime.NumCPU() {
		t.Errorf("PossibleCPUs %d < NumCPU %d", in.PossibleCPUs, runtime.NumCPU())
	}
	if in.Usable != engineOn {
		t.Errorf("Usable %v but engine on %v", in.Usable, engineOn)
	}
	if !in.Usable {
		if in.Reason == ReasonNone || in.Owner != OwnerNone || in.Mode != ModeNone {
			t.Errorf("unusable but reason %v owner %v mode %v", in.Reason, in.Owner, in.Mode)
		}
		return
	}
	if in.Reason != ReasonNone || in.Owner == OwnerNone || in.RegisteredLen < 32 || in.Mode != modeFor(in.RegisteredLen) {
		t.Errorf("usable but reason %v owner %v len %d mode %v", in.Reason, in.Owner, in.RegisteredLen, in.Mode)
	}
	if in.Signature != archSig {
		t.Errorf("signature %#x", in.Signature)
	}
	if in.Owner == OwnerLibrary && in.FeatureSize > 32 && in.Mode != ModeV2 {
		t.Errorf("own registration on a kernel with feature size %d is not V2", in.FeatureSize)
	}
	if in.RegisteredLen > 32 && in.Align > 0 && in.Owner == OwnerLibrary && in.RegisteredLen%in.Align != 0 {
		t.Errorf("registered length %d not aligned to %d", in.RegisteredLen, in.Align)
	}
	if !in.Fence {
		t.Error("usable without the fence")
	}
	if s := in.String(); !strings.Contains(s, "owner") {
		t.Errorf("String() = %q", s)
	}
}

// TestInfoExpected lets CI say which configuration each build variant must
// end up in, so a silent fallback cannot pass for the real thing:
// GORSEQ_EXPECT=libc|library|library-cgo|libc-area|race|off.
func TestInfoExpected(t *testing.T) {
	want := os.Getenv("GORSEQ_EXPECT")
	if want == "" {
		t.Skip("GORSEQ_EXPECT not set")
	}
	in := ReadInfo()
	var ok bool
	switch want {
	case "libc":
		ok = in.Usable && in.Owner == OwnerLibc && in.Cgo
	case "library":
		ok = in.Usable && in.Owner == OwnerLibrary && !in.Cgo
	case "library-cgo":
		ok = in.Usable && in.Owner == OwnerLibrary && in.Cgo
	case "libc-area":
		// A C library registered its own area where this library cannot
		// find it (a static glibc binary): the fallback, saying why.
		ok = !in.Usable && in.Reason == ReasonLibcArea && in.Cgo
	case "race":
		ok = !in.Usable && in.Reason == ReasonRace
	case "off":
		ok = !in.Usable && in.Reason == ReasonDisabled
	default:
		t.Fatalf("unknown GORSEQ_EXPECT %q", want)
	}
	if !ok {
		t.Fatalf("expected configuration %q, got:\n%s", want, in)
	}
}

func TestReasonStrings(t *testing.T) {
	for r := ReasonNone; r <= lastReason; r++ {
		if s := r.String(); s == "" || strings.HasPrefix(s, "Reason(") {
			t.Errorf("reason %d has no text", int(r))
		}
	}
}
