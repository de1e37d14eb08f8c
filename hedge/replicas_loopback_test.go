package hedge

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tlsReplica is a loopback HTTPS replica speaking HTTP/2 that records the
// Host header and TLS server name of each request; a stalled one answers
// only once its request is canceled.
type tlsReplica struct {
	srv  *httptest.Server
	seen chan [3]string // host, server name, protocol
}

func startTLSReplica(t *testing.T, stalled bool) *tlsReplica {
	r := &tlsReplica{seen: make(chan [3]string, 4)}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.seen <- [3]string{req.Host, req.TLS.ServerName, req.Proto}
		if stalled {
			<-req.Context().Done()
			return
		}
		io.WriteString(w, "ok")
	}))
	r.srv.EnableHTTP2 = true
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	return r
}

// TestReplicaHostAndServerNameLoopback checks the documented Host and TLS
// server name rule over real HTTPS/2 connections: replaced, the hedge is
// addressed to the replica (no SNI for an IP address); preserved, it
// keeps the request's virtual host, and a transport whose
// TLSClientConfig.ServerName names it verifies the replica's certificate
// for that name.
func TestReplicaHostAndServerNameLoopback(t *testing.T) {
	tests := []struct {
		name           string
		preserve       bool
		serverName     string // the base transport's TLSClientConfig.ServerName
		host           string // the request's Host
		wantHost       func(b string) string
		wantServerName string
	}{
		{"replace", false, "", "", func(b string) string { return b }, ""},
		{"preserve", true, "example.com", "example.com", func(string) string { return "example.com" }, "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := startTLSReplica(t, true), startTLSReplica(t, false)
			roots := x509.NewCertPool()
			roots.AddCert(a.srv.Certificate()) // httptest serves one certificate: 127.0.0.1, ::1, example.com
			base := http.DefaultTransport.(*http.Transport).Clone()
			base.TLSClientConfig = &tls.Config{RootCAs: roots, ServerName: tt.serverName}
			defer base.CloseIdleConnections()

			h := New(Config{Delay: 20 * time.Millisecond, Replicas: Replicas{Addrs: []string{a.srv.URL, b.srv.URL}, PreserveHost: tt.preserve}})
			req, err := http.NewRequest(http.MethodGet, a.srv.URL+"/x", nil)
			require.NoError(t, err)
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := h.Wrap(base).RoundTrip(req)
			require.NoError(t, err)
			assert.Equal(t, "ok", readAll(t, resp))
			assert.Equal(t, "HTTP/2.0", resp.Proto)

			got := <-b.seen
			assert.Equal(t, tt.wantHost(b.srv.Listener.Addr().String()), got[0], "Host header at the replica")
			assert.Equal(t, tt.wantServerName, got[1], "TLS server name at the replica")
			assert.Equal(t, "HTTP/2.0", got[2])
		})
	}
}
