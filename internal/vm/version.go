package main

import (
	"regexp"
	"strconv"
)

var runRE = regexp.MustCompile(`\d+|\D+`)

// versionLess orders kernel version strings naturally: digit runs compare
// as numbers, other runs as text, so "6.1.0-9" < "6.1.0-41" < "7.2.13".
func versionLess(a, b string) bool {
	ra, rb := runRE.FindAllString(a, -1), runRE.FindAllString(b, -1)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		x, y := ra[i], rb[i]
		if x == y {
			continue
		}
		nx, ex := strconv.ParseUint(x, 10, 64)
		ny, ey := strconv.ParseUint(y, 10, 64)
		if ex == nil && ey == nil {
			return nx < ny
		}
		return x < y
	}
	return len(ra) < len(rb)
}
