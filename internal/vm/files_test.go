package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseFileSpec(t *testing.T) {
	for _, c := range []struct {
		in   string
		want fileSpec
	}{
		{"amd64:/lib64/ld-linux-x86-64.so.2=/lib64/ld-linux-x86-64.so.2",
			fileSpec{arch: "amd64", dst: "/lib64/ld-linux-x86-64.so.2", src: "/lib64/ld-linux-x86-64.so.2"}},
		{"arm64:/lib/aarch64-linux-gnu/libc.so.6=/usr/aarch64-linux-gnu/lib/libc.so.6",
			fileSpec{arch: "arm64", dst: "/lib/aarch64-linux-gnu/libc.so.6", src: "/usr/aarch64-linux-gnu/lib/libc.so.6"}},
		// No arch: every architecture, {arch} kept for hostPath.
		{"/etc/x.conf=/tmp/{arch}/x.conf", fileSpec{dst: "/etc/x.conf", src: "/tmp/{arch}/x.conf"}},
		// The guest path is cleaned; the host path ends the spec and may hold "=" and ":".
		{"amd64:/lib//x/../y=./a=b:c", fileSpec{arch: "amd64", dst: "/lib/y", src: "./a=b:c"}},
		// Under a harness directory, not the directory itself.
		{"/bin/sh=/bin/busybox", fileSpec{dst: "/bin/sh", src: "/bin/busybox"}},
	} {
		got, err := parseFileSpec(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, why string }{
		{"", "no host path"},
		{"/lib/x", "no host path"},
		{"/lib/x=", "no host path"},
		{"lib/x=/a", "not absolute"},
		{"amd64:lib/x=/a", "not absolute"},
		{"riscv64:/lib/x=/a", `unknown architecture "riscv64"`},
		{"/=/a", "is /"},
		{"/init=/a", "belongs to the harness"},
		{"/tests=/a", "belongs to the harness"},
		{"/tests/x=/a", "belongs to the harness"},
		{"/tmp=/a", "directory the harness makes"},
		{"/bin=/a", "directory the harness makes"},
		{"/dev/console=/a", "hidden"},
		{"/proc/x=/a", "hidden"},
		{"/tmp/x=/a", "hidden"},
		{"/sys/kernel/x=/a", "hidden"},
		{"/a b=/a", "white space"},
	} {
		got, err := parseFileSpec(c.in)
		if err == nil {
			t.Errorf("%q: no error, got %+v", c.in, got)
			continue
		}
		if !strings.Contains(err.Error(), c.why) {
			t.Errorf("%q: error %q does not say %q", c.in, err, c.why)
		}
	}
}

func TestCheckFiles(t *testing.T) {
	f := func(specs ...string) []fileSpec {
		var out []fileSpec
		for _, s := range specs {
			p, err := parseFileSpec(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	for _, ok := range [][]fileSpec{
		f("amd64:/lib/libc.so.6=/a", "arm64:/lib/libc.so.6=/b"),
		f("/lib/a=/a", "/lib/b=/b"),
		f("amd64:/lib=/a", "arm64:/lib/x=/b"),
	} {
		if err := checkFiles(ok); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for _, bad := range [][]fileSpec{
		f("/lib/a=/a", "/lib/a=/b"),
		f("/lib/a=/a", "amd64:/lib/a=/b"),
		f("arm64:/lib=/a", "/lib/x=/b"),
		f("/lib/x/y=/a", "amd64:/lib/x=/b"),
	} {
		if err := checkFiles(bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// TestReadFiles: files are picked per architecture, {arch} is replaced,
// symbolic links are followed and the mode's permission bits kept; a
// missing or non-regular source is an error naming the guest path.
func TestReadFiles(t *testing.T) {
	dir := t.TempDir()
	for _, a := range []string{"amd64", "arm64"} {
		if err := os.Mkdir(filepath.Join(dir, a), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, a, "libc"), []byte("libc-"+a), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ld"), []byte("loader"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("ld", filepath.Join(dir, "ld-link")); err != nil {
		t.Fatal(err)
	}
	files := []fileSpec{
		{arch: "amd64", dst: "/lib64/ld", src: filepath.Join(dir, "ld-link")},
		{dst: "/lib/libc.so.6", src: filepath.Join(dir, "{arch}", "libc")},
	}
	got, err := readFiles(files, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	want := []guestFile{
		{dst: "/lib64/ld", perm: 0o755, data: []byte("loader")},
		{dst: "/lib/libc.so.6", perm: 0o644, data: []byte("libc-amd64")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("amd64: got %+v, want %+v", got, want)
	}
	got, err = readFiles(files, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	want = []guestFile{{dst: "/lib/libc.so.6", perm: 0o644, data: []byte("libc-arm64")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("arm64: got %+v, want %+v", got, want)
	}
	for _, bad := range []fileSpec{
		{dst: "/lib/missing", src: filepath.Join(dir, "missing")},
		{dst: "/lib/dir", src: dir},
	} {
		if _, err := readFiles([]fileSpec{bad}, "amd64"); err == nil || !strings.Contains(err.Error(), bad.dst) {
			t.Errorf("%+v: error %v", bad, err)
		}
	}
}

// TestInitramfsFiles: the extra files land in the archive at their guest
// paths with their modes and contents, parents first, beside /init and
// the tests.
func TestInitramfsFiles(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("elf"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "initramfs.cpio")
	files := []guestFile{
		{dst: "/lib64/ld-linux-x86-64.so.2", perm: 0o755, data: []byte("loader")},
		{dst: "/lib/x86_64-linux-gnu/libc.so.6", perm: 0o644, data: []byte("libc")},
	}
	tests := []testSpec{{name: "t", src: bin}}
	if err := writeInitramfs(out, bin, files, tests, map[string]string{"t": bin}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		mode uint32
		data string
	}
	got := map[string]entry{}
	var order []string
	for off := 0; ; {
		h := b[off : off+110]
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return uint32(v)
		}
		mode, size, namesize := field(1), int(field(6)), int(field(11))
		name := string(b[off+110 : off+110+namesize-1])
		if name == "TRAILER!!!" {
			break
		}
		off = align4(off + 110 + namesize)
		got[name] = entry{mode, string(b[off : off+size])}
		order = append(order, name)
		off = align4(off + size)
	}
	for name, want := range map[string]entry{
		"lib64":                          {cpioDir | 0o755, ""},
		"lib64/ld-linux-x86-64.so.2":     {cpioReg | 0o755, "loader"},
		"lib/x86_64-linux-gnu/libc.so.6": {cpioReg | 0o644, "libc"},
		"init":                           {cpioReg | 0o755, "elf"},
		"tests/t":                        {cpioReg | 0o755, "elf"},
		"tests/run.list":                 {cpioReg | 0o644, "/tests/t\n"},
	} {
		if g, ok := got[name]; !ok || g != want {
			t.Errorf("%s: got %+v (present %v), want %+v", name, g, ok, want)
		}
	}
	seen := map[string]bool{}
	for _, n := range order {
		if d := filepath.Dir(n); d != "." && !seen[d] {
			t.Errorf("%s comes before its directory %s", n, d)
		}
		seen[n] = true
	}
}
