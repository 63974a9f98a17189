module github.com/gorseq/rseq/bench

go 1.26.0

require (
	github.com/gorseq/rseq v0.0.0-00010101000000-000000000000
	github.com/puzpuzpuz/xsync/v4 v4.5.0
)

require golang.org/x/sys v0.49.0 // indirect

replace github.com/gorseq/rseq => ../
