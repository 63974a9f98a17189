//go:build !unix

package main

// No SIGUSR1 here: -signal does nothing.
func (w *worker) sendSignal() {}

func startSignals(bool) func() { return func() {} }
