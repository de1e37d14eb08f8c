package testkit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStubCountsAndRecordsBodies(t *testing.T) {
	var tr Tracker
	s := &Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
		if n == 1 {
			return nil, errors.New("first fails")
		}
		return Respond(req, 200, "ok", &tr), nil
	}}
	req, _ := http.NewRequest(http.MethodPut, "http://x/", strings.NewReader("abc"))
	_, err := s.RoundTrip(req)
	require.Error(t, err)
	req, _ = http.NewRequest(http.MethodPut, "http://x/", strings.NewReader("def"))
	resp, err := s.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Calls())
	assert.Equal(t, []string{"abc", "def"}, s.Bodies())
	assert.Equal(t, 1, tr.Open())
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "ok", string(b))
	resp.Body.Close()
	resp.Body.Close()
	assert.Equal(t, 0, tr.Open())
	assert.Equal(t, 1, tr.Made())
}

func TestSleepHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		require.NoError(t, Sleep(context.Background(), time.Second))
		assert.Equal(t, time.Second, time.Since(start))

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, Sleep(ctx, time.Hour), context.DeadlineExceeded)
	})
}

func TestFailingReader(t *testing.T) {
	r := &FailingReader{N: 5}
	b, err := io.ReadAll(r)
	assert.ErrorIs(t, err, ErrRead)
	assert.Equal(t, "xxxxx", string(b))
	r.Close()
	assert.True(t, r.Closed())
}

func TestClosedPortRefuses(t *testing.T) {
	addr := ClosedPort(t)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	_, err := Transport(t).RoundTrip(req)
	assert.Error(t, err)
}
