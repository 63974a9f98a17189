package main

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
)

// fileSpec is one extra file for the guest's initramfs (-file): the host
// file src is written at dst, for one architecture or for all of them.
type fileSpec struct {
	arch string // "amd64", "arm64", or "" for every architecture
	dst  string // absolute path in the guest, cleaned
	src  string // path on the host; {arch} becomes the guest's architecture
}

// guestArchs are the architectures a spec may name: those of the kernels.
var guestArchs = map[string]bool{"amd64": true, "arm64": true}

// archPrefixRE matches the "arch:" in front of a -file or test spec.
var archPrefixRE = regexp.MustCompile(`^([a-z0-9]+):`)

// cutArch splits an optional "arch:" prefix off s. A prefix that is not a
// guest architecture is an error.
func cutArch(s string) (arch, rest string, err error) {
	m := archPrefixRE.FindStringSubmatch(s)
	if m == nil {
		return "", s, nil
	}
	if !guestArchs[m[1]] {
		return "", "", fmt.Errorf("unknown architecture %q (want amd64 or arm64)", m[1])
	}
	return m[1], s[len(m[0]):], nil
}

// parseFileSpec parses "[arch:]/guest/path=/host/path". The guest path is
// absolute and may not be /init, under /tests or one of the directories
// the harness makes (they belong to the harness); it ends at the first
// "=", so the host path may contain "=".
func parseFileSpec(s string) (fileSpec, error) {
	bad := func(why string) (fileSpec, error) {
		return fileSpec{}, fmt.Errorf("bad -file %q: %s; want [amd64:|arm64:]/guest/path=/host/path", s, why)
	}
	arch, rest, err := cutArch(s)
	if err != nil {
		return bad(err.Error())
	}
	dst, src, ok := strings.Cut(rest, "=")
	switch {
	case !ok || src == "":
		return bad("no host path")
	case !strings.HasPrefix(dst, "/"):
		return bad("the guest path is not absolute")
	case strings.ContainsAny(dst, " \t\n"):
		return bad("the guest path holds white space")
	}
	dst = path.Clean(dst)
	switch {
	case dst == "/":
		return bad("the guest path is /")
	case dst == "/init" || under(dst, testsDir):
		return bad(dst + " belongs to the harness")
	case harnessDirs[strings.TrimPrefix(dst, "/")]:
		return bad(dst + " is a directory the harness makes")
	}
	for _, m := range guestMounts {
		if under(dst, m) {
			return bad(dst + " would be hidden: init mounts a file system on " + m)
		}
	}
	return fileSpec{arch: arch, dst: dst, src: src}, nil
}

// guestMounts are where internal/vm/init mounts file systems (its mounts).
var guestMounts = []string{"/proc", "/sys", "/dev", "/tmp"}

// under reports whether p is dir or inside it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// forArch reports whether f goes into arch's initramfs.
func (f fileSpec) forArch(arch string) bool { return f.arch == "" || f.arch == arch }

// hostPath is f's source for arch.
func (f fileSpec) hostPath(arch string) string { return strings.ReplaceAll(f.src, "{arch}", arch) }

// fileList is a flag.Value collecting repeated -file flags.
type fileList struct{ files *[]fileSpec }

func (l fileList) String() string { return "" }

func (l fileList) Set(s string) error {
	f, err := parseFileSpec(s)
	if err != nil {
		return err
	}
	*l.files = append(*l.files, f)
	return nil
}

// checkFiles refuses two files at one guest path of one architecture, and
// a file where another one would need a directory.
func checkFiles(files []fileSpec) error {
	for i, a := range files {
		for _, b := range files[:i] {
			if a.arch != "" && b.arch != "" && a.arch != b.arch {
				continue
			}
			switch {
			case a.dst == b.dst:
				return fmt.Errorf("-file: %s given twice for one architecture", a.dst)
			case strings.HasPrefix(a.dst, b.dst+"/"), strings.HasPrefix(b.dst, a.dst+"/"):
				return fmt.Errorf("-file: %s and %s: one would be the other's directory", b.dst, a.dst)
			}
		}
	}
	return nil
}

// guestFile is a file resolved for one architecture: its contents and
// permission bits, read from the host (symbolic links followed).
type guestFile struct {
	dst  string
	perm uint32
	data []byte
}

// readFiles reads the files that go into arch's initramfs.
func readFiles(files []fileSpec, arch string) ([]guestFile, error) {
	var out []guestFile
	for _, f := range files {
		if !f.forArch(arch) {
			continue
		}
		src := f.hostPath(arch)
		st, err := os.Stat(src)
		if err != nil {
			return nil, fmt.Errorf("-file %s for %s: %v", f.dst, arch, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("-file %s for %s: %s is not a regular file", f.dst, arch, src)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("-file %s for %s: %v", f.dst, arch, err)
		}
		out = append(out, guestFile{dst: f.dst, perm: uint32(st.Mode().Perm()), data: data})
	}
	return out, nil
}
