//go:build !linux

package kbench

// Modes: no rseq outside Linux.
func Modes() []Mode { return nil }

// Syscall, Yield and Futex measure nothing outside Linux.
func Syscall(m Mode, n int) (float64, error) { return 0, errNotLinux }
func Yield(m Mode, n int) (float64, error)   { return 0, errNotLinux }
func Futex(m Mode, n int) (float64, error)   { return 0, errNotLinux }
