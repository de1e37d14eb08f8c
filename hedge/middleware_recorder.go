package hedge

import (
	"io"
	"net/http"
	"net/textproto"
	"strings"
)

// recorder is one run's ResponseWriter: it buffers the headers, status and
// body the handler writes, so that only the winner's reach the client.
//
// It deliberately implements nothing beyond [http.ResponseWriter] and
// [io.StringWriter]: no Flush, no Hijack, no Unwrap. A handler asking
// [http.ResponseController] for those gets [http.ErrNotSupported] rather
// than a flush that silently does nothing, or a hijacked connection shared
// by two runs.
//
// A recorder is used by its run's goroutine until the handler returns, and
// read by the ServeHTTP goroutine after that; it needs no lock.
type recorder struct {
	base    http.Header // the real writer's headers when the race began; read-only
	header  http.Header // nil until the handler asks for it
	status  int         // 0 until the final status is written
	body    []byte      // starts in scratch: a small response costs no allocation
	scratch [64]byte

	// Past limit body bytes (0: no limit), owner is asked what to do:
	// write through to the client from now on (it returns the client's
	// writer) or fail (it returns the error every later write returns).
	limit  int
	owner  outgrower
	direct io.Writer // the client's writer once this run answers while writing
	cutOff error     // set when the run may write no more
}

// Header returns the run's header map, which starts as a copy of the real
// writer's, so headers set by outer middleware are visible as they would
// be without hedging.
func (rec *recorder) Header() http.Header {
	if rec.header == nil {
		rec.header = rec.base.Clone()
		if rec.header == nil {
			rec.header = make(http.Header)
		}
	}
	return rec.header
}

// WriteHeader records the final status. Informational (1xx) statuses are
// dropped: they cannot be sent before the race is decided, and after it
// they would only precede the final answer. Later calls are ignored, as
// net/http ignores them.
func (rec *recorder) WriteHeader(code int) {
	if rec.status != 0 || (code >= 100 && code < 200) {
		return
	}
	rec.status = code
}

func (rec *recorder) Write(p []byte) (int, error) {
	if err := rec.room(len(p)); err != nil {
		return 0, err
	}
	if rec.direct != nil {
		return rec.direct.Write(p)
	}
	rec.body = append(rec.body, p...)
	return len(p), nil
}

func (rec *recorder) WriteString(s string) (int, error) {
	if err := rec.room(len(s)); err != nil {
		return 0, err
	}
	if rec.direct != nil {
		return io.WriteString(rec.direct, s)
	}
	rec.body = append(rec.body, s...)
	return len(s), nil
}

// An outgrower decides what happens to a run whose body outgrew its
// recorder's limit; see [run.outgrow].
type outgrower interface {
	outgrow() (io.Writer, error)
}

// room prepares for a write of n body bytes: it records the implied 200,
// and when the write would take the body past limit it asks the owner
// whether to write through or fail.
func (rec *recorder) room(n int) error {
	rec.WriteHeader(http.StatusOK)
	switch {
	case rec.cutOff != nil:
		return rec.cutOff
	case rec.direct != nil:
		return nil
	case rec.limit > 0 && n > rec.limit-len(rec.body): // no overflow: len(rec.body) ≤ limit
		w, err := rec.owner.outgrow()
		if err != nil {
			rec.cutOff = err
			return err
		}
		rec.direct = w
	case rec.body == nil:
		rec.body = rec.scratch[:0]
	}
	return nil
}

// result returns the status and headers the run answered with, once its
// handler has returned: a handler that wrote nothing answered 200.
func (rec *recorder) result() (int, http.Header) {
	rec.WriteHeader(http.StatusOK)
	if rec.header == nil {
		return rec.status, rec.base
	}
	return rec.status, rec.header
}

// writeTo copies the recorded response to w. Trailers — keys carrying
// [http.TrailerPrefix] and keys the handler declared in a Trailer header —
// are set after the body, which is when net/http reads them.
func (rec *recorder) writeTo(w http.ResponseWriter) {
	rec.writeHead(w)
	rec.writeTrailers(w)
}

// writeHead copies the recorded headers (but not trailers), status and body
// to w.
func (rec *recorder) writeHead(w http.ResponseWriter) {
	status, src := rec.result()
	if rec.header == nil {
		// The handler never touched the headers: the real writer's stand.
		w.WriteHeader(status)
		rec.writeBody(w)
		return
	}
	dst := w.Header()
	declared := src["Trailer"]
	clear(dst) // the run started from a copy of dst and may have deleted keys
	for k, v := range src {
		if !isTrailer(k, declared) {
			dst[k] = v
		}
	}
	w.WriteHeader(status)
	rec.writeBody(w)
}

// writeTrailers sets the recorded trailers on w, which net/http sends
// after the body.
func (rec *recorder) writeTrailers(w http.ResponseWriter) {
	if rec.header == nil {
		return
	}
	dst := w.Header()
	declared := rec.header["Trailer"]
	for k, v := range rec.header {
		if isTrailer(k, declared) {
			dst[k] = v
		}
	}
}

func (rec *recorder) writeBody(w http.ResponseWriter) {
	if len(rec.body) > 0 {
		w.Write(rec.body) //nolint:errcheck // a failed write means the client is gone
	}
}

// isTrailer reports whether header key k is a trailer: prefixed with
// http.TrailerPrefix, or named in one of the Trailer header values.
func isTrailer(k string, declared []string) bool {
	if strings.HasPrefix(k, http.TrailerPrefix) {
		return true
	}
	for _, v := range declared {
		for name := range strings.SplitSeq(v, ",") {
			if textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)) == k {
				return true
			}
		}
	}
	return false
}
