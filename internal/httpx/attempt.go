package httpx

import (
	"context"
	"fmt"
	"net/http"
)

// Attempt returns the request to send as attempt n (1-based) under ctx.
//
// The first attempt sends req's own body, which the transport then closes.
// Every later attempt gets a fresh body from GetBody, so no two attempts
// ever share a reader. req must have come from [Replayable] with ok true when
// n > 1.
func Attempt(ctx context.Context, req *http.Request, n int) (*http.Request, error) {
	r := req.WithContext(ctx)
	if n <= 1 || r.Body == nil || r.Body == http.NoBody {
		return r, nil
	}
	if r.GetBody == nil {
		return nil, fmt.Errorf("attempt %d: request body cannot be replayed (no GetBody)", n)
	}
	body, err := r.GetBody()
	if err != nil {
		return nil, fmt.Errorf("attempt %d: GetBody: %w", n, err)
	}
	r.Body = body
	return r, nil
}
