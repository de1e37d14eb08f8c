package testkit

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
)

// Tracker counts the response bodies it made that are still open, so a test
// can prove every response a stage discarded was closed.
type Tracker struct {
	made, open atomic.Int64
}

// Body returns a body reading s whose Close is counted once.
func (t *Tracker) Body(s string) *Body {
	t.made.Add(1)
	t.open.Add(1)
	return &Body{Reader: strings.NewReader(s), tracker: t}
}

// Open returns how many bodies are not closed yet.
func (t *Tracker) Open() int { return int(t.open.Load()) }

// Made returns how many bodies were made.
func (t *Tracker) Made() int { return int(t.made.Load()) }

// Body is a response body that records whether it was closed and how much
// was read from it.
type Body struct {
	*strings.Reader
	tracker *Tracker
	closed  atomic.Bool
}

// Close marks the body closed; later calls are no-ops.
func (b *Body) Close() error {
	if b.closed.CompareAndSwap(false, true) && b.tracker != nil {
		b.tracker.open.Add(-1)
	}
	return nil
}

// Closed reports whether Close was called.
func (b *Body) Closed() bool { return b.closed.Load() }

// ErrRead is the error [FailingReader] returns.
var ErrRead = errors.New("testkit: read failed")

// FailingReader returns n bytes of 'x' and then fails with [ErrRead]. It
// records whether it was closed.
type FailingReader struct {
	N      int
	read   int
	closed atomic.Bool
}

// Read implements io.Reader.
func (r *FailingReader) Read(p []byte) (int, error) {
	if r.read >= r.N {
		return 0, ErrRead
	}
	n := min(len(p), r.N-r.read)
	for i := range n {
		p[i] = 'x'
	}
	r.read += n
	return n, nil
}

// Close implements io.Closer.
func (r *FailingReader) Close() error { r.closed.Store(true); return nil }

// Closed reports whether Close was called.
func (r *FailingReader) Closed() bool { return r.closed.Load() }

// OnlyReader hides every method of r but Read, so http.NewRequest cannot set
// GetBody for it: a body that cannot be replayed without buffering.
func OnlyReader(r io.Reader) io.Reader { return struct{ io.Reader }{r} }

// StalledBody is a response body that sends nothing until it is closed: an
// error page whose upstream hung after the headers. Read blocks until
// Close, then fails.
type StalledBody struct {
	once   sync.Once
	closed chan struct{}
}

// NewStalledBody returns an open StalledBody.
func NewStalledBody() *StalledBody { return &StalledBody{closed: make(chan struct{})} }

// Read blocks until the body is closed and then fails with
// io.ErrClosedPipe.
func (b *StalledBody) Read([]byte) (int, error) {
	<-b.closed
	return 0, io.ErrClosedPipe
}

// Close unblocks Read; later calls are no-ops.
func (b *StalledBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// Closed reports whether Close was called.
func (b *StalledBody) Closed() bool {
	select {
	case <-b.closed:
		return true
	default:
		return false
	}
}
