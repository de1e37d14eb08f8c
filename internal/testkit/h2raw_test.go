package testkit

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
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
