package testkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/idempotency"
	"go.uber.org/goleak"
)

// The fault tests own no TestMain (other testkit files may add one), so
// each checks for leaks itself.
func noLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func faultGet(t *testing.T, s *FaultServer, c *http.Client, f Fault) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/x", nil)
	require.NoError(t, err)
	req.Header.Set(FaultHeader, f.String())
	return c.Do(req)
}

func TestFaultServerOKRecordsRequest(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{BodySize: 10})
	c := &http.Client{Transport: s.Transport(t)}
	body := bytes.Repeat([]byte("z"), 8<<20) // the 8 MiB body of the hedgedhttp bug
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/p", bytes.NewReader(body))
	req.Header.Set("Idempotency-Key", "k1")
	resp, err := c.Do(req)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, OKBody(10), got)

	recs := s.Records()
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, 1, r.N)
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "/p", r.Path)
	assert.Equal(t, "HTTP/1.1", r.Proto)
	assert.Equal(t, "k1", r.Key)
	assert.Equal(t, sha256.Sum256(body), r.BodySHA256)
	assert.EqualValues(t, len(body), r.BodyBytes)
	assert.NoError(t, r.BodyErr)
	assert.EqualValues(t, 1, r.ConnID)
	assert.Equal(t, 1, s.Received())
}

func TestFaultServerConnIDs(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{})
	tr := s.Transport(t)
	c := &http.Client{Transport: tr}
	for range 2 {
		resp, err := faultGet(t, s, c, FaultOK())
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	tr.CloseIdleConnections()
	resp, err := faultGet(t, s, c, FaultOK())
	require.NoError(t, err)
	resp.Body.Close()
	recs := s.Records()
	require.Len(t, recs, 3)
	assert.Equal(t, recs[0].ConnID, recs[1].ConnID, "keep-alive reuses the connection")
	assert.NotEqual(t, recs[1].ConnID, recs[2].ConnID)
	assert.Equal(t, 2, s.Conns())
}

func TestFaultServerStatusHasReadableBody(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{Script: FaultSequence(FaultStatus(503), FaultStatus(502))})
	c := &http.Client{Transport: s.Transport(t)}
	for _, want := range []int{503, 502, 200} {
		resp, err := c.Get(s.URL)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, want, resp.StatusCode)
		if want != 200 {
			assert.Equal(t, "fault: "+strconv.Itoa(want), string(b))
		}
	}
}

func TestFaultServerRetryAfterForms(t *testing.T) {
	noLeaks(t)
	now := time.Now()
	forms := RetryAfterForms(now)
	require.Len(t, forms, 9)
	s := NewFaultServer(t, FaultServerOptions{})
	c := &http.Client{Transport: s.Transport(t)}
	for _, form := range forms {
		t.Run(form.Name, func(t *testing.T) {
			resp, err := faultGet(t, s, c, FaultThrottle(form.Value))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, 429, resp.StatusCode)
			assert.Equal(t, form.Value, resp.Header.Get("Retry-After"), "sent verbatim")
			d, ok := idempotency.ParseRetryAfter(form.Value, now)
			assert.Equal(t, form.Valid, ok)
			if form.Valid {
				assert.InDelta(t, form.Delay.Seconds(), d.Seconds(), 1)
			}
		})
	}
}

func TestFaultServerResetBeforeHeaders(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{Script: FaultAlways(FaultOf(FaultResetBeforeHeaders))})
	c := &http.Client{Transport: s.Transport(t)}
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader("pay"))
	_, err := c.Do(req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF), "got %v", err)
	assert.False(t, idempotency.NeverSent(err), "the server saw the request")
	require.Len(t, s.Records(), 1)
	assert.EqualValues(t, 3, s.Records()[0].BodyBytes)
}

func TestFaultServerResetMidBody(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{BodySize: 1000})
	c := &http.Client{Transport: s.Transport(t)}
	resp, err := faultGet(t, s, c, FaultOf(FaultResetMidBody))
	require.NoError(t, err, "headers arrive")
	assert.Equal(t, 200, resp.StatusCode)
	assert.EqualValues(t, 2000, resp.ContentLength)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF), "got %v", err)
	assert.Less(t, len(b), 2000)
}

func TestFaultServerTruncatedBody(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{BodySize: 100})
	c := &http.Client{Transport: s.Transport(t)}
	resp, err := faultGet(t, s, c, FaultOf(FaultTruncatedBody))
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, OKBody(100), b, "exactly the half that was sent")
}

// A stalled body: the headers arrive, the body never does, until the
// client gives up.
func TestFaultServerStalledBody(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{})
	c := &http.Client{Transport: s.Transport(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/x", nil)
	req.Header.Set(FaultHeader, Fault{Kind: FaultStalledBody, Status: 503}.String())
	resp, err := c.Do(req)
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, context.DeadlineExceeded, "nothing came until the client gave up")
	assert.True(t, s.WaitIdle(time.Second))
}

func TestFaultServerBlackHoleUntilClientGivesUp(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{})
	c := &http.Client{Transport: s.Transport(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	req.Header.Set(FaultHeader, FaultOf(FaultBlackHole).String())
	start := time.Now()
	_, err := c.Do(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "nothing came back before the deadline")
	assert.True(t, s.WaitIdle(5*time.Second), "the handler returned once the client left")
}

func TestFaultServerBlackHoleReleasedAtClose(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{Script: FaultAlways(FaultOf(FaultBlackHole))})
	c := &http.Client{Transport: s.Transport(t)}
	done := make(chan error, 1)
	go func() {
		resp, err := c.Get(s.URL)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("black hole answered: %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	s.releaseHeld()
	s.Close()
	assert.Error(t, <-done, "released without an answer")
}

func TestFaultServerSlowHeaders(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{})
	c := &http.Client{Transport: s.Transport(t)}
	start := time.Now()
	resp, err := faultGet(t, s, c, FaultSlow(40*time.Millisecond))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
}

func TestFaultServerBadHeaderIs400(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{})
	c := &http.Client{Transport: s.Transport(t)}
	req, _ := http.NewRequest(http.MethodGet, s.URL, nil)
	req.Header.Set(FaultHeader, "nonsense")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
}

func TestFaultServerHTTP2(t *testing.T) {
	noLeaks(t)
	s := NewFaultServer(t, FaultServerOptions{HTTP2: true, BodySize: 100})
	c := &http.Client{Transport: s.Transport(t)}

	resp, err := faultGet(t, s, c, FaultOK())
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, 2, resp.ProtoMajor, "negotiated h2")

	_, err = faultGet(t, s, c, FaultOf(FaultResetBeforeHeaders))
	assert.Error(t, err, "stream reset before headers")

	for _, k := range []FaultKind{FaultResetMidBody, FaultTruncatedBody} {
		resp, err := faultGet(t, s, c, FaultOf(k))
		require.NoError(t, err, k.String())
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Error(t, err, "%v: stream reset mid-body", k)
	}

	resp, err = faultGet(t, s, c, FaultStatus(503))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	recs := s.Records()
	require.Len(t, recs, 5)
	for _, r := range recs {
		assert.Equal(t, "HTTP/2.0", r.Proto)
		assert.Equal(t, recs[0].ConnID, r.ConnID, "one multiplexed connection")
	}
}

func TestFaultServerClosedPortRefuses(t *testing.T) {
	noLeaks(t)
	c := &http.Client{Transport: Transport(t)}
	_, err := c.Get("http://" + ClosedPort(t))
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.True(t, idempotency.NeverSent(err))
}

func TestFaultServerRecordHook(t *testing.T) {
	noLeaks(t)
	var got []FaultRecord
	var mu sync.Mutex
	s := NewFaultServer(t, FaultServerOptions{Record: func(r FaultRecord) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}})
	c := &http.Client{Transport: s.Transport(t)}
	resp, err := c.Post(s.URL+"/r", "text/plain", strings.NewReader("abc"))
	require.NoError(t, err)
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	assert.Equal(t, "/r", got[0].Path)
	assert.Equal(t, sha256.Sum256([]byte("abc")), got[0].BodySHA256)
	assert.Empty(t, s.Records(), "records go to the hook only")
}
