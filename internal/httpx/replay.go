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
