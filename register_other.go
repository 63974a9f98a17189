//go:build !linux

package rseq

func registerThread() bool { return false }
func threadState() uint32  { return idUnset }
