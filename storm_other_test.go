//go:build !unix

package rseq

// signalStorm: no process signals to send here.
func signalStorm() (stop func()) { return func() {} }
