//go:build !linux

package rseq

import "runtime"

func sliceAvailable() error {
	return notSupported(featureSlice, ReasonNotLinux, runtime.GOOS, nil)
}

func sliceExtension(f func()) (granted bool, err error) {
	return false, sliceAvailable()
}
