package hedge

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// upgradeBody is a 101's read-write connection that never ends on its own.
type upgradeBody struct {
	*testkit.StalledBody
	io.Writer
}

// A misbehaving server answers a plain GET's losing attempt with 101: the
// loser's connection is closed without a read (a drain would never end),
// and the caller is not held up.
func TestLosing101IsClosedNotDrained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := upgradeBody{testkit.NewStalledBody(), io.Discard}
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if IsHedge(req.Context()) {
				return after(req, 5*time.Millisecond, 200, nil)
			}
			time.Sleep(30 * time.Millisecond) // ignores cancellation
			resp := testkit.Respond(req, http.StatusSwitchingProtocols, "", nil)
			resp.Body = conn
			return resp, nil
		}}
		start := time.Now()
		resp, err := New(Config{Delay: 10 * time.Millisecond}).Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, 30*time.Millisecond, time.Since(start), "back as soon as the original's transport returned")
		assert.Equal(t, "OK", readAll(t, resp))
		synctest.Wait()
		assert.True(t, conn.Closed())
	})
}

// Over a real connection: an upgrade is sent once, even when its 101 is
// slower than the hedge delay, and the caller gets the connection.
func TestLoopbackUpgradeSentOnce(t *testing.T) {
	srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString(strings.ToUpper(line))
		rw.Flush()
	}))
	h := New(Config{Delay: time.Millisecond})
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := h.Wrap(testkit.Transport(t)).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	conn, ok := resp.Body.(io.ReadWriteCloser)
	require.True(t, ok, "the 101 body is the connection")
	_, err = io.WriteString(conn, "hello\n")
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HELLO\n", line)
	assert.Equal(t, Stats{Requests: 1, PassThrough: 1}, h.Stats())
}
