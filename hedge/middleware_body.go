package hedge

import (
	"bytes"
	"io"
	"math"
	"net/http"
)

// readBody reads r's body once, so that every run can be given its own
// reader over the same bytes. A request without a body returns (nil, true),
// and so does an empty one.
//
// When the body is larger than limit, or reading it fails, ok is false and
// rest is a body that yields the bytes already read and then whatever the
// original would have yielded next — the rest of the body, or the same
// error — so the single run that follows sees exactly what it would have
// seen without the middleware. That matters for an outer
// http.MaxBytesReader: its *http.MaxBytesError must reach the handler,
// which answers 413 with it. (httpx.Replayable, the client side's
// equivalent, instead fails the request, which a RoundTripper can do and a
// handler cannot.)
func readBody(r *http.Request, limit int64) (body []byte, ok bool, rest io.ReadCloser) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true, nil
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= min(limit, DefaultMaxBody) {
		// Room to see EOF without growing. Content-Length is the client's
		// claim, not bytes received: past DefaultMaxBody the buffer grows
		// only as bytes arrive, or a huge MaxBody would let one request
		// header allocate that much.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	// One byte past limit tells "exactly limit" from "more". No body is
	// longer than math.MaxInt64, where limit+1 would wrap to a negative
	// limit that reads nothing.
	probe := limit
	if probe < math.MaxInt64 {
		probe++
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, probe))
	switch {
	case err != nil:
		return nil, false, &prefixBody{Reader: io.MultiReader(&buf, errReader{err}), Closer: r.Body}
	case int64(buf.Len()) > limit:
		return nil, false, &prefixBody{Reader: io.MultiReader(&buf, r.Body), Closer: r.Body}
	}
	return buf.Bytes(), true, nil
}

// prefixBody is the body of a request served once after part of it was
// read; closing it closes the original.
type prefixBody struct {
	io.Reader
	io.Closer
}

// errReader fails every read with err, as the original body did.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// runBody is one run's reader over the buffered body.
type runBody struct{ bytes.Reader }

func (*runBody) Close() error { return nil }
