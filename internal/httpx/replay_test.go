package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// closeCounter counts Close calls on a caller's body.
type closeCounter struct {
	io.Reader
	closes int
}

func (c *closeCounter) Close() error { c.closes++; return nil }

func TestReplayablePassesThroughReplayableBodies(t *testing.T) {
	withGetBody, _ := http.NewRequest(http.MethodPut, "http://x/", strings.NewReader("abc"))
	noBody, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	explicitNoBody, _ := http.NewRequest(http.MethodPost, "http://x/", http.NoBody)
	for name, req := range map[string]*http.Request{"GetBody": withGetBody, "nil": noBody, "NoBody": explicitNoBody} {
		t.Run(name, func(t *testing.T) {
			r, ok, err := Replayable(req, 0)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Same(t, req, r, "a replayable request needs no clone")
		})
	}
}

func TestReplayableBuffersSmallBody(t *testing.T) {
	body := &closeCounter{Reader: strings.NewReader("hello")}
	req, _ := http.NewRequest(http.MethodPut, "http://x/", body)
	req.ContentLength = -1

	r, ok, err := Replayable(req, 16)
	require.NoError(t, err)
	require.True(t, ok)
	assert.NotSame(t, req, r)
	assert.Equal(t, 1, body.closes, "the caller's body is closed once, after buffering")
	assert.Same(t, body, req.Body, "the caller's request is not mutated")
	assert.Nil(t, req.GetBody)
	assert.EqualValues(t, -1, req.ContentLength)
	assert.EqualValues(t, 5, r.ContentLength)

	for i := range 3 {
		b, err := r.GetBody()
		require.NoError(t, err)
		got, _ := io.ReadAll(b)
		assert.Equal(t, "hello", string(got), "copy %d", i)
	}
	got, _ := io.ReadAll(r.Body)
	assert.Equal(t, "hello", string(got))
}

func TestReplayableEmptyBodyBecomesNoBody(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPut, "http://x/", testkit.OnlyReader(strings.NewReader("")))
	r, ok, err := Replayable(req, 16)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, http.NoBody, r.Body)
}

func TestReplayableLargeBodyIsSentWholeOnce(t *testing.T) {
	payload := strings.Repeat("z", 100)
	body := &closeCounter{Reader: strings.NewReader(payload)}
	req, _ := http.NewRequest(http.MethodPut, "http://x/", body)

	r, ok, err := Replayable(req, 10)
	require.NoError(t, err)
	assert.False(t, ok, "above the limit the request is not replayable")
	assert.Nil(t, r.GetBody)
	assert.Zero(t, body.closes, "the body still has to be sent")

	got, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, payload, string(got), "never truncated")
	require.NoError(t, r.Body.Close())
	assert.Equal(t, 1, body.closes)
}

func TestReplayableBodyThatFailsOnRead(t *testing.T) {
	fr := &testkit.FailingReader{N: 3}
	req, _ := http.NewRequest(http.MethodPut, "http://x/", fr)
	r, ok, err := Replayable(req, 16)
	assert.Nil(t, r)
	assert.False(t, ok)
	assert.ErrorIs(t, err, ErrBodyRead)
	assert.ErrorIs(t, err, testkit.ErrRead)
	assert.True(t, fr.Closed(), "a body we give up on is closed")
}

func TestAttemptBodies(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPut, "http://x/", bytes.NewReader([]byte("payload")))
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, 1)

	first, err := Attempt(ctx, req, 1)
	require.NoError(t, err)
	assert.Equal(t, req.Body, first.Body, "the first attempt sends the caller's body")
	assert.Equal(t, ctx, first.Context())

	second, err := Attempt(ctx, req, 2)
	require.NoError(t, err)
	b, _ := io.ReadAll(second.Body)
	assert.Equal(t, "payload", string(b))
	b, _ = io.ReadAll(first.Body)
	assert.Equal(t, "payload", string(b), "the second attempt did not consume the first's reader")
	assert.Equal(t, context.Background(), req.Context(), "the caller's request keeps its context")
}

func TestAttemptErrors(t *testing.T) {
	noGetBody, _ := http.NewRequest(http.MethodPut, "http://x/", testkit.OnlyReader(strings.NewReader("a")))
	_, err := Attempt(context.Background(), noGetBody, 2)
	assert.ErrorContains(t, err, "cannot be replayed")

	boom := errors.New("boom")
	failing, _ := http.NewRequest(http.MethodPut, "http://x/", strings.NewReader("a"))
	failing.GetBody = func() (io.ReadCloser, error) { return nil, boom }
	_, err = Attempt(context.Background(), failing, 2)
	assert.ErrorIs(t, err, boom)

	noBody, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	r, err := Attempt(context.Background(), noBody, 5)
	require.NoError(t, err)
	assert.Nil(t, r.Body)
}

func TestReplayableIf(t *testing.T) {
	withGetBody := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://x/", strings.NewReader("abc"))
		return r
	}
	plain := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://x/", testkit.OnlyReader(strings.NewReader("abc")))
		return r
	}
	yes := func(*http.Request) bool { return true }
	no := func(*http.Request) bool { return false }
	tests := []struct {
		name       string
		req        *http.Request
		would      func(*http.Request) bool
		wantOK     bool
		wantCopied bool // the body was buffered: a new request with a GetBody
	}{
		{"GetBody, allowed", withGetBody(), yes, true, false},
		{"GetBody, refused", withGetBody(), no, false, false},
		{"no GetBody, allowed: copied", plain(), yes, true, true},
		{"no GetBody, refused: never copied", plain(), no, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok, err := ReplayableIf(tt.req, tt.would, 0)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.wantCopied, r != tt.req)
			if tt.wantCopied {
				assert.NotNil(t, r.GetBody)
			}
		})
	}
}

// The probe a classifier sees has a GetBody, but calling it never reaches
// the caller's body.
func TestReplayableIfProbeNeverReadsBody(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://x/", testkit.OnlyReader(strings.NewReader("abc")))
	var probeErr error
	_, _, err := ReplayableIf(req, func(r *http.Request) bool {
		require.NotNil(t, r.GetBody)
		_, probeErr = r.GetBody()
		return false
	}, 0)
	require.NoError(t, err)
	assert.ErrorIs(t, probeErr, errProbe)
	b, _ := io.ReadAll(req.Body)
	assert.Equal(t, "abc", string(b), "the caller's body is untouched")
}
