//go:build !linux

package rseq

import "testing"

func sliceCheckArea(t *testing.T) { t.Fatal("time slice extensions reported available off Linux") }
