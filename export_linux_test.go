package rseq

// Internals for the external tests (package rseq_test).

// LiveAreas returns how many of this library's own areas are handed out.
func LiveAreas() int { return areas.liveAreas() }

// OwnAreasViaM reports whether this process registers its own areas and
// reaches them through g.m because a C library owns the thread pointer.
func OwnAreasViaM() bool { return cgoOwn }
