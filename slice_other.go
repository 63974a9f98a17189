//go:build !linux

package rseq

func sliceAvailable() error {
	return &SliceUnavailableError{Reason: SliceNotLinux}
}

func sliceExtension(f func()) (granted bool, err error) {
	return false, sliceAvailable()
}
