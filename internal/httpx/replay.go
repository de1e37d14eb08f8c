package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxBufferedBody is the largest request body, lacking GetBody, that is
// copied into memory so it can be sent again. Larger bodies are sent once.
const DefaultMaxBufferedBody = 1 << 20

// ErrBodyRead wraps the error of a request body that failed while being
// buffered for replay. Nothing was sent: a body that cannot be read whole
// would otherwise reach the server truncated.
var ErrBodyRead = errors.New("reading request body for replay")

// Replayable returns a request whose body can be produced again for later
// attempts, and whether that is so.
//
// A request with no body, [http.NoBody] or a GetBody is returned as it is. A
// body without GetBody is read into memory up to limit bytes (limit <= 0 means
// [DefaultMaxBufferedBody]); if it fits, the returned clone reads from that
// copy and has a GetBody. If it does not fit, the clone's body replays the
// bytes already read followed by the rest of the original, so the single
// attempt that follows still sends the whole body, and ok is false.
//
// When the body fails on Read, the body is closed and the error wraps
// [ErrBodyRead] and the read error.
func Replayable(req *http.Request, limit int64) (r *http.Request, ok bool, err error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return req, true, nil
	}
	if limit <= 0 {
		limit = DefaultMaxBufferedBody
	}
	buf, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		req.Body.Close()
		return nil, false, fmt.Errorf("%w: %w", ErrBodyRead, err)
	}
	clone := *req
	if int64(len(buf)) > limit {
		clone.Body = &prefixedBody{Reader: io.MultiReader(bytes.NewReader(buf), req.Body), closer: req.Body}
		return &clone, false, nil
	}
	req.Body.Close()
	clone.ContentLength = int64(len(buf))
	clone.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf)), nil
	}
	clone.Body, _ = clone.GetBody()
	if len(buf) == 0 {
		clone.Body, clone.GetBody = http.NoBody, nil
	}
	return &clone, true, nil
}

// prefixedBody sends the bytes already buffered and then the rest of the
// caller's body; closing it closes the caller's body.
type prefixedBody struct {
	io.Reader
	closer io.Closer
}

func (b *prefixedBody) Close() error { return b.closer.Close() }

// ReplayableIf is [Replayable] for a stage that replays only what its
// classifier allows: would reports whether a request may be sent more than
// once. It returns the request to send and whether would allows replaying
// it with its body producible again.
//
// A body without GetBody is copied only when would accepts the request as
// it would be with a replayable body: a classifier says nothing useful about
// a body it cannot replay, and copying a body that will never be replayed
// (a POST without a key) is pure cost — failsafe-go copies every body, +139
// KB/op on a 64 KiB POST. would never sees the caller's GetBody called.
func ReplayableIf(req *http.Request, would func(*http.Request) bool, limit int64) (*http.Request, bool, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return req, would(req), nil
	}
	probe := *req
	probe.GetBody = errProbeBody
	if !would(&probe) {
		return req, false, nil
	}
	return Replayable(req, limit)
}

var errProbe = errors.New("httpx: classifier called GetBody on a probe request")

// errProbeBody stands in for GetBody on the probe: a classifier that calls
// it gets an error rather than the caller's body.
func errProbeBody() (io.ReadCloser, error) { return nil, errProbe }
