package rseq

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestNotSupportedError(t *testing.T) {
	inner := errors.New("inner")
	var err error = notSupported(featureSlice, ReasonNoSliceExtension, "kernel x", inner)
	if !errors.Is(err, ErrNotSupported) {
		t.Fatal("errors.Is(err, ErrNotSupported) is false")
	}
	if !errors.Is(err, inner) {
		t.Fatal("the error does not unwrap to its cause")
	}
	var se *NotSupportedError
	if !errors.As(err, &se) || se.Reason != ReasonNoSliceExtension || se.MinKernel != "7.0" {
		t.Fatalf("errors.As: %+v", se)
	}
	for _, want := range []string{featureSlice, ReasonNoSliceExtension.String(), "kernel x", "needs Linux 7.0+", "inner"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err.Error(), want)
		}
	}
	if in := ReadInfo(); in.Usable != (in.Err == nil) || (!in.Usable && !errors.Is(in.Err, ErrNotSupported)) {
		t.Errorf("Info: usable %v, Err %v", in.Usable, in.Err)
	}
}

// TestSliceUnavailableOrRuns: where the extension is unavailable, f is not
// called and both entry points give the same reason; where it is, f runs
// exactly once.
func TestSliceUnavailableOrRuns(t *testing.T) {
	probe := SliceExtensionAvailable()
	calls := 0
	granted, err := SliceExtension(func() { calls++ })
	t.Logf("SliceExtensionAvailable: %v", probe)
	t.Logf("SliceExtension: granted=%v err=%v", granted, err)
	if (probe == nil) != (err == nil) {
		t.Fatalf("probe %v but SliceExtension %v", probe, err)
	}
	if err != nil {
		if !errors.Is(err, ErrNotSupported) {
			t.Fatalf("error does not match ErrNotSupported: %v", err)
		}
		if calls != 0 || granted {
			t.Fatalf("unavailable, yet f ran %d times, granted=%v", calls, granted)
		}
		var a, b *NotSupportedError
		errors.As(probe, &a)
		errors.As(err, &b)
		if a == nil || b == nil || a.Reason != b.Reason {
			t.Fatalf("reasons differ: %v / %v", probe, err)
		}
		if runtime.GOOS != "linux" && a.Reason != ReasonNotLinux {
			t.Fatalf("on %s the reason is %v", runtime.GOOS, a.Reason)
		}
		return
	}
	if calls != 1 {
		t.Fatalf("f ran %d times", calls)
	}
	sliceCheckArea(t)
}

func TestSlicePanicInF(t *testing.T) {
	if SliceExtensionAvailable() != nil {
		t.Skipf("not available: %v", SliceExtensionAvailable())
	}
	runtime.LockOSThread() // the same thread before and after
	defer runtime.UnlockOSThread()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic lost")
			}
		}()
		SliceExtension(func() { panic("boom") })
	}()
	// The request must have been cleared on the way out.
	if v := readArea32(offSliceRequest) & 0xff; v != 0 {
		t.Fatalf("request byte %d after a panic", v)
	}
}
