package hedge

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// newGet returns a GET request to a stub host.
func newGet(t testing.TB) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://upstream.test/x", nil)
	require.NoError(t, err)
	return req
}

// after answers req with status after d, or fails with the context's error
// if the attempt is canceled first, as a network transport would.
func after(req *http.Request, d time.Duration, status int, tr *testkit.Tracker) (*http.Response, error) {
	if err := testkit.Sleep(req.Context(), d); err != nil {
		return nil, err
	}
	return testkit.Respond(req, status, http.StatusText(status), tr), nil
}

// readAll reads and closes resp's body.
func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return string(b)
}

// ctxBody is a response body that fails reads once its attempt's context
// is done, as a real connection's body does.
type ctxBody struct {
	ctx context.Context
	r   io.Reader
}

func (b *ctxBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}

func (b *ctxBody) Close() error { return nil }

func newCtxBody(ctx context.Context, s string) io.ReadCloser {
	return &ctxBody{ctx: ctx, r: strings.NewReader(s)}
}

func contextWithTimeout(req *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(req.Context(), d)
}
