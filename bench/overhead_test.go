package bench

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// upstream is where benchmark requests go: an in-memory stub (the stages'
// own cost, nothing else) or a loopback server (what a user pays).
type upstream struct {
	name  string
	start func(b *testing.B) (base http.RoundTripper, url string)
}

var upstreams = []upstream{
	{"stub", func(b *testing.B) (http.RoundTripper, string) {
		return stub{}, "http://stub.invalid/x"
	}},
	{"loopback", func(b *testing.B) (http.RoundTripper, string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("ok"))
		}))
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		b.Cleanup(func() {
			tr.CloseIdleConnections()
			srv.Close()
		})
		return tr, srv.URL + "/x"
	}},
}

// stub answers 200 "ok" at once, after reading and closing the request
// body as a real transport does.
type stub struct{}

func (stub) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, ContentLength: 2,
		Body: io.NopCloser(strings.NewReader("ok")), Request: req,
	}, nil
}

// key turns "tailguard/retry" into "tailguard-retry", so that sub-benchmark
// names stay key=value pairs benchstat can pivot on (-col /client).
func key(name string) string { return strings.ReplaceAll(name, "/", "-") }

func do(b *testing.B, c *http.Client, req *http.Request) {
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkGet measures one GET through each setup, every stage idle: no
// failure, no hedge fired. The difference to client=bare is the setup's
// overhead.
func BenchmarkGet(b *testing.B) {
	for _, up := range upstreams {
		for _, cl := range Clients() {
			b.Run("upstream="+up.name+"/client="+key(cl.Name), func(b *testing.B) {
				base, url := up.start(b)
				c := &http.Client{Transport: cl.Wrap(base)}
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					b.Fatal(err)
				}
				do(b, c, req) // warm the connection pool and lazy state
				b.ReportAllocs()
				for b.Loop() {
					do(b, c, req)
				}
			})
		}
	}
}

// BenchmarkPut64K measures a 64 KiB PUT (idempotent, so retry-enabled)
// through each retry setup. The body is a *bytes.Reader, so the request
// has GetBody: a retry stage has no reason to copy it.
func BenchmarkPut64K(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 64<<10)
	clients := []Client{Clients()[0]}
	for _, cl := range Clients() {
		if strings.HasSuffix(cl.Name, "/retry") || strings.Contains(cl.Name, "/pipeline") {
			clients = append(clients, cl)
		}
	}
	for _, up := range upstreams {
		for _, cl := range clients {
			b.Run("upstream="+up.name+"/client="+key(cl.Name), func(b *testing.B) {
				base, url := up.start(b)
				c := &http.Client{Transport: cl.Wrap(base)}
				put := func() {
					req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(payload))
					if err != nil {
						b.Fatal(err)
					}
					do(b, c, req)
				}
				put()
				b.ReportAllocs()
				b.SetBytes(int64(len(payload)))
				for b.Loop() {
					put()
				}
			})
		}
	}
}
