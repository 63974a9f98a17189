package rseq

import "errors"

// ErrNotSupported is matched (errors.Is) by every error that says
// restartable sequences, or a feature built on them, cannot be used in this
// process: ReadInfo().Err, the errors of SliceExtension and
// SliceExtensionAvailable, and those of the shared-memory constructors.
// errors.As with *NotSupportedError gives the reason and, where a kernel
// version decides it, the first version with the feature.
var ErrNotSupported = errors.New("not supported")

// NotSupportedError says why a feature is not available here.
type NotSupportedError struct {
	// Feature is what is not available: "restartable sequences", "time
	// slice extensions", "shared per-CPU memory".
	Feature string
	// Reason is why.
	Reason Reason
	// MinKernel is the first Linux version that has the feature, where a
	// kernel version decides it ("" otherwise).
	MinKernel string
	// Detail adds context (the kernel release, a registration length).
	Detail string
	// Err is the error behind the reason (an errno), if any.
	Err error
}

func (e *NotSupportedError) Error() string {
	s := "rseq: " + e.Feature + " not supported: " + e.Reason.String()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.MinKernel != "" {
		s += " (needs Linux " + e.MinKernel + "+)"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is ErrNotSupported.
func (e *NotSupportedError) Is(target error) bool { return target == ErrNotSupported }

// Unwrap returns the error behind the reason.
func (e *NotSupportedError) Unwrap() error { return e.Err }

const (
	featureRseq   = "restartable sequences"
	featureSlice  = "time slice extensions"
	featureShared = "shared per-CPU memory"
)

// notSupported builds the error for feature and reason, with the minimum
// kernel where one decides.
func notSupported(feature string, r Reason, detail string, err error) *NotSupportedError {
	return &NotSupportedError{Feature: feature, Reason: r, MinKernel: minKernel[r], Detail: detail, Err: err}
}

// minKernel is the first kernel version without the obstacle a reason
// names, where a kernel version decides it.
var minKernel = map[Reason]string{
	ReasonNoSyscall:        "4.18",
	ReasonNoFence:          "5.10",
	ReasonBrokenKernel:     "7.0.14",
	ReasonLegacyMode:       "7.0",
	ReasonNoSliceExtension: "7.0",
}
