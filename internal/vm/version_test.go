package main

import "testing"

func TestVersionLess(t *testing.T) {
	ordered := []string{"6.1.0-9", "6.1.0-41", "6.12.3+deb13", "7.2.9+deb14", "7.2.13+deb14", "7.10.1"}
	for i := range ordered {
		for j := range ordered {
			if got := versionLess(ordered[i], ordered[j]); got != (i < j) {
				t.Errorf("versionLess(%q, %q) = %v", ordered[i], ordered[j], got)
			}
		}
	}
}

func TestPickNewest(t *testing.T) {
	names := []string{
		"linux-binary-7.2.13+deb14-cloud-amd64",
		"linux-binary-unsigned-7.2.13+deb14-cloud-amd64",
		"linux-binary-7.2.9+deb14-cloud-amd64",
		"linux-binary-7.2.13+deb14-amd64",
		"linux-image-7.1.2+deb14-cloud-amd64",
		"linux-image-7.2.13+deb14-cloud-amd64-dbg",
		"linux-image-7.2.13+deb14-cloud-amd64",
	}
	v, ok := pickNewest(names, "cloud-amd64", "")
	if !ok || v != "7.2.13+deb14" {
		t.Fatalf("pickNewest = %q, %v", v, ok)
	}
	old := []string{"linux-image-6.1.0-9-cloud-amd64", "linux-image-6.1.0-41-cloud-amd64", "linux-image-5.10.0-30-cloud-amd64"}
	if v, _ := pickNewest(old, "cloud-amd64", "6.1."); v != "6.1.0-41" {
		t.Fatalf("pickNewest with prefix = %q", v)
	}
}
