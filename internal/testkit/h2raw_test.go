package testkit

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The violator speaks real HTTP/2 to a stock client, which receives the
// request whole and then rejects the response for its invalid header.
func TestH2Violator(t *testing.T) {
	srv := NewH2Violator(t, "x-bad", "a\x01b")
	client := srv.Client()
	defer client.CloseIdleConnections()
	for i := 1; i <= 2; i++ { // the second request reuses the connection
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("request %d: response accepted: %s", i, resp.Status)
		}
		if !strings.Contains(err.Error(), `stream error`) || !strings.Contains(err.Error(), `"x-bad"`) {
			t.Errorf("request %d: %v, want an HTTP/2 stream error over x-bad", i, err)
		}
		if n := srv.Requests(); n != int64(i) {
			t.Errorf("after request %d the server received %d", i, n)
		}
	}
}

func TestHPACKLiteral(t *testing.T) {
	want := []byte{0x88, 0x00, 5, 'x', '-', 'b', 'a', 'd', 3, 'a', 0x01, 'b'}
	if got := hpackLiteral("x-bad", "a\x01b"); !bytes.Equal(got, want) {
		t.Errorf("hpackLiteral = %x, want %x", got, want)
	}
}

// Bodies beyond HTTP/2's initial 64 KiB connection window all arrive: the
// violator returns the flow-control credit of every DATA frame it reads,
// so a long run of POSTs on one connection (the soak's h2bad host) never
// stalls the client.
func TestH2ViolatorFlowControl(t *testing.T) {
	srv := NewH2Violator(t, "x-bad", "a\x01b")
	client := srv.Client()
	defer client.CloseIdleConnections()
	body := bytes.Repeat([]byte("b"), 16<<10)
	const n = 12 // 192 KiB, three times the initial window
	for i := 1; i <= n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
		}
		if err == nil || !strings.Contains(err.Error(), `"x-bad"`) {
			t.Fatalf("request %d: %v, want the stream error over x-bad (the body stalled?)", i, err)
		}
	}
	if got := srv.Requests(); got != n {
		t.Errorf("the server received %d requests whole, want %d", got, n)
	}
}
