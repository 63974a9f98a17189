package main

import (
	"fmt"
	"io"
	"path"
	"strings"
)

// cpioWriter writes a cpio archive in the "newc" format (magic 070701),
// the format the kernel unpacks as an initramfs. It writes directories,
// regular files and character devices, each once, parents first.
type cpioWriter struct {
	w    io.Writer
	off  int64
	ino  uint32
	dirs map[string]bool
	err  error
}

// Mode bits of the newc header.
const (
	cpioDir  = 0o040000
	cpioReg  = 0o100000
	cpioChar = 0o020000
)

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: w, ino: 1, dirs: map[string]bool{".": true, "": true}}
}

// Mkdir adds directory name and its missing parents.
func (c *cpioWriter) Mkdir(name string, perm uint32) {
	name = clean(name)
	if c.dirs[name] {
		return
	}
	c.Mkdir(path.Dir(name), 0o755)
	c.dirs[name] = true
	c.entry(name, cpioDir|perm, 0, 0, nil)
}

// File adds a regular file with the given permission bits and contents.
func (c *cpioWriter) File(name string, perm uint32, data []byte) {
	name = clean(name)
	c.Mkdir(path.Dir(name), 0o755)
	c.entry(name, cpioReg|perm, 0, 0, data)
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) {
	name = clean(name)
	c.Mkdir(path.Dir(name), 0o755)
	c.entry(name, cpioChar|perm, major, minor, nil)
}

// Close writes the trailer. It returns the first error met while writing.
func (c *cpioWriter) Close() error {
	c.ino = 0
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	return c.err
}

func clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// entry writes one header, the name and the data, each padded to 4 bytes.
func (c *cpioWriter) entry(name string, mode, rmajor, rminor uint32, data []byte) {
	nlink := uint32(1)
	if mode&cpioDir != 0 {
		nlink = 2
	}
	ino := c.ino
	if c.ino != 0 {
		c.ino++
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name + "\x00"))
	c.pad()
	c.write(data)
	c.pad()
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil || len(b) == 0 {
		return
	}
	n, err := c.w.Write(b)
	c.off += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if r := c.off % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}
