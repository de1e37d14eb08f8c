package httpx

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCancelOnClose(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	resp := &http.Response{Body: io.NopCloser(strings.NewReader("abc"))}
	CancelOnClose(resp, cancel)

	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(b))
	assert.NoError(t, ctx.Err(), "reading does not cancel")
	require.NoError(t, resp.Body.Close())
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	require.NoError(t, resp.Body.Close(), "a second close is harmless")
}

func TestCancelOnCloseNilBody(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	CancelOnClose(&http.Response{}, cancel)
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}

type rwc struct {
	io.Reader
	io.Writer
}

func (rwc) Close() error { return nil }

func TestCancelOnCloseKeepsReadWriteCloser(t *testing.T) {
	_, cancel := context.WithCancel(context.Background())
	resp := &http.Response{Body: rwc{strings.NewReader(""), io.Discard}}
	CancelOnClose(resp, cancel)
	_, ok := resp.Body.(io.ReadWriteCloser)
	assert.True(t, ok, "a 101 body stays writable")
}
