package hedge

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecorderStatusRules(t *testing.T) {
	var rec recorder
	rec.WriteHeader(http.StatusEarlyHints) // dropped
	rec.WriteHeader(http.StatusCreated)
	rec.WriteHeader(http.StatusTeapot) // superfluous, ignored
	io.WriteString(&rec, "a")
	rec.Write([]byte("b"))
	status, _ := rec.result()
	assert.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "ab", string(rec.body))

	var empty recorder
	status, _ = empty.result()
	assert.Equal(t, http.StatusOK, status, "a handler that writes nothing answers 200")
}

// A run's writer is not a Flusher or Hijacker, and ResponseController
// says so, rather than flushing nothing or sharing the connection.
func TestRecorderNotStreaming(t *testing.T) {
	var w http.ResponseWriter = &recorder{}
	_, flusher := w.(http.Flusher)
	_, hijacker := w.(http.Hijacker)
	assert.False(t, flusher)
	assert.False(t, hijacker)
	rc := http.NewResponseController(w)
	assert.ErrorIs(t, rc.Flush(), http.ErrNotSupported)
	_, _, err := rc.Hijack()
	assert.True(t, errors.Is(err, http.ErrNotSupported))
}

// Headers set by outer middleware are visible to the run, a header the
// winner deleted is gone, and trailers arrive after the body.
func TestRecorderWriteTo(t *testing.T) {
	dst := httptest.NewRecorder()
	dst.Header().Set("X-Outer", "1")
	dst.Header().Set("X-Drop", "1")

	rec := recorder{base: dst.Header()}
	assert.Equal(t, "1", rec.Header().Get("X-Outer"))
	rec.Header().Del("X-Drop")
	rec.Header().Set("Content-Type", "text/plain")
	rec.Header().Set("Trailer", "X-Checksum")
	rec.WriteHeader(http.StatusAccepted)
	io.WriteString(&rec, "body")
	rec.Header().Set("X-Checksum", "abc")
	rec.Header().Set(http.TrailerPrefix+"X-Late", "yes")
	assert.Empty(t, dst.Header().Get("Content-Type"), "the real writer is untouched until the answer")

	rec.writeTo(dst)
	res := dst.Result()
	assert.Equal(t, http.StatusAccepted, res.StatusCode)
	assert.Equal(t, "1", res.Header.Get("X-Outer"))
	assert.Empty(t, res.Header.Get("X-Drop"))
	assert.Equal(t, "text/plain", res.Header.Get("Content-Type"))
	assert.Empty(t, res.Header.Get("X-Checksum"), "a declared trailer is not a header")
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, "body", string(b))
	assert.Equal(t, http.Header{"X-Checksum": {"abc"}, "X-Late": {"yes"}}, res.Trailer)
}

// A run that never touched its headers leaves the real writer's alone.
func TestRecorderUntouchedHeaders(t *testing.T) {
	dst := httptest.NewRecorder()
	dst.Header().Set("X-Outer", "1")
	rec := recorder{base: dst.Header()}
	rec.Write([]byte("x"))
	rec.writeTo(dst)
	assert.Equal(t, "1", dst.Result().Header.Get("X-Outer"))
	assert.Equal(t, "x", dst.Body.String())
}

func TestIsTrailer(t *testing.T) {
	declared := []string{"x-a, X-B", "x-c"}
	for k, want := range map[string]bool{
		"X-A": true, "X-B": true, "X-C": true, "X-D": false,
		http.TrailerPrefix + "X-D": true,
	} {
		assert.Equal(t, want, isTrailer(k, declared), k)
	}
	assert.False(t, isTrailer("X-A", nil))
}

// fakeOwner answers a recorder's outgrow with a fixed writer or error.
type fakeOwner struct {
	w     io.Writer
	err   error
	calls int
}

func (f *fakeOwner) outgrow() (io.Writer, error) {
	f.calls++
	return f.w, f.err
}

// A recorder never buffers more than its limit: past it, writes go to the
// owner's writer, or fail with the owner's error, every one of them.
func TestRecorderLimit(t *testing.T) {
	var client strings.Builder
	through := &fakeOwner{w: &client}
	rec := recorder{limit: 10, owner: through}
	io.WriteString(&rec, "0123456789")
	assert.Equal(t, "0123456789", string(rec.body))
	assert.Zero(t, through.calls)
	rec.Write([]byte("abc"))
	io.WriteString(&rec, "def")
	assert.Equal(t, "0123456789", string(rec.body), "nothing past the limit is buffered")
	assert.Equal(t, "abcdef", client.String())
	assert.Equal(t, 1, through.calls)

	boom := errors.New("boom")
	cut := &fakeOwner{err: boom}
	rec = recorder{limit: 10, owner: cut}
	_, err := io.WriteString(&rec, "01234567890")
	assert.ErrorIs(t, err, boom)
	_, err = rec.Write([]byte("x"))
	assert.ErrorIs(t, err, boom)
	assert.Empty(t, rec.body)
	assert.Equal(t, 1, cut.calls)
}
