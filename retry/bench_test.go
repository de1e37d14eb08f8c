package retry

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/tailguard/tailguard/internal/testkit"
)

// Run with: go test -run='^$' -bench=. -benchmem ./retry/
//
// Each pair measures the bare transport and the same transport wrapped by
// a zero-Config retry stage, on a first-try success: the overhead every
// successful request pays.

func BenchmarkStubGet(b *testing.B) {
	b.Run("bare", func(b *testing.B) { testkit.BenchGet(b, testkit.OK, "http://x/") })
	b.Run("retry", func(b *testing.B) { testkit.BenchGet(b, New(Config{}).Wrap(testkit.OK), "http://x/") })
}

func loopback(b *testing.B) (*http.Transport, string) {
	srv, _ := testkit.NewServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok"))
	}))
	return testkit.Transport(b), srv.URL
}

func BenchmarkLoopbackGet(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		tr, url := loopback(b)
		testkit.BenchGet(b, tr, url)
	})
	b.Run("retry", func(b *testing.B) {
		tr, url := loopback(b)
		testkit.BenchGet(b, New(Config{}).Wrap(tr), url)
	})
}

// benchPut sends a 64 KiB PUT whose body has GetBody (bytes.Reader), so the
// stage must not copy it.
func benchPut(b *testing.B, rt http.RoundTripper, url string) {
	payload := bytes.Repeat([]byte("p"), 64<<10)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(payload))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkStubPut64K(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchPut(b, testkit.OK, "http://x/") })
	b.Run("retry", func(b *testing.B) { benchPut(b, New(Config{}).Wrap(testkit.OK), "http://x/") })
}

func BenchmarkLoopbackPut64K(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		tr, url := loopback(b)
		benchPut(b, tr, url)
	})
	b.Run("retry", func(b *testing.B) {
		tr, url := loopback(b)
		benchPut(b, New(Config{}).Wrap(tr), url)
	})
}

// BenchmarkStubGetAttemptTimeout is the cost of an AttemptTimeout on a
// first-try success: a cancelable context, a timer and a body wrapper.
func BenchmarkStubGetAttemptTimeout(b *testing.B) {
	testkit.BenchGet(b, New(Config{AttemptTimeout: 1e9}).Wrap(testkit.OK), "http://x/")
}
