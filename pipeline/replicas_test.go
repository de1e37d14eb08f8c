package pipeline_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// credentialServer is a loopback server that records the credentials
// each request to it carried; handle answers.
type credentialServer struct {
	*httptest.Server

	mu   sync.Mutex // guards seen
	seen []string   // "path: credentials" per request
}

func startCredentialServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *credentialServer {
	s := &credentialServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var creds []string
		for _, h := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
			if v := r.Header.Get(h); v != "" {
				creds = append(creds, h+"="+v)
			}
		}
		s.mu.Lock()
		s.seen = append(s.seen, r.URL.Path+": "+strings.Join(creds, " "))
		s.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *credentialServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// TestReplicaCredentialsStayOnListedReplicas: Authorization, Cookie and
// Proxy-Authorization reach listed replicas and nowhere else, over
// loopback, with an http.Client following redirects through the
// recommended pipeline. All three servers listen on 127.0.0.1, so
// net/http's own redirect rule (same host name, any port) would copy the
// credentials to the unlisted one: the control case shows it does.
func TestReplicaCredentialsStayOnListedReplicas(t *testing.T) {
	var a, b, c *credentialServer
	c = startCredentialServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "c") })
	redirect := func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, c.URL+"/landed", http.StatusFound) }
	a = startCredentialServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			redirect(w, r)
			return
		}
		<-r.Context().Done() // stalled: the hedge to b answers
	})
	b = startCredentialServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall-then-redirect" {
			redirect(w, r)
			return
		}
		io.WriteString(w, "b")
	})

	newClient := func(withStage bool) *http.Client {
		base := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(base.CloseIdleConnections)
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		au, _ := url.Parse(a.URL)
		jar.SetCookies(au, []*http.Cookie{{Name: "jar", Value: "j"}}) // a jar scopes cookies by host name, not port
		if !withStage {
			return &http.Client{Transport: base, Jar: jar}
		}
		h := hedge.New(hedge.Config{Delay: 20 * time.Millisecond, Replicas: hedge.Replicas{Addrs: []string{a.URL, b.URL}}})
		return &http.Client{Transport: pipeline.NewWithBase(base, h, retry.New(retry.Config{}), breaker.New(breaker.Config{})), Jar: jar}
	}
	send := func(client *http.Client, target string) string {
		req, err := http.NewRequest(http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer secret")
		req.Header.Set("Cookie", "session=s")
		req.Header.Set("Proxy-Authorization", "Basic cHJveHk=")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}

	// The control: net/http alone follows a's redirect to c with every
	// credential. Without this the test could not fail.
	if got := send(newClient(false), a.URL+"/redirect"); got != "c" {
		t.Fatalf("control: got %q", got)
	}
	if got := c.requests(); len(got) != 1 || !strings.Contains(got[0], "Bearer secret") || !strings.Contains(got[0], "Basic") {
		t.Fatalf("control: c saw %q; the test's premise (net/http copies credentials to the same host name) no longer holds", got)
	}
	c.mu.Lock()
	c.seen = nil
	c.mu.Unlock()

	client := newClient(true)
	tests := []struct {
		name, target, want string
	}{
		{"a replica redirects off the service", a.URL + "/redirect", "c"},
		{"the hedge's replica redirects off the service", a.URL + "/stall-then-redirect", "c"},
		{"a path naming the unlisted host", a.URL + "//" + strings.TrimPrefix(c.URL, "http://") + "/x", "b"},
		{"a request to the unlisted host", c.URL + "/direct", "c"},
	}
	for _, tt := range tests {
		if got := send(client, tt.target); got != tt.want {
			t.Errorf("%s: body %q, want %q", tt.name, got, tt.want)
		}
	}
	want := []string{"/landed: ", "/landed: ", "/direct: "}
	if got := c.requests(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the unlisted host saw %q, want %q (no credentials)", got, want)
	}
	for _, r := range append(a.requests(), b.requests()...) {
		if !strings.Contains(r, "Authorization=Bearer secret") || !strings.Contains(r, "session=s") {
			t.Errorf("a listed replica saw %q: it should get the credentials", r)
		}
	}
	if got := len(b.requests()); got != 2 {
		t.Errorf("b saw %d hedges, want 2 (the stalled and the path-trick requests)", got)
	}
}

// TestReplicaBreakerPerReplica: in the recommended pipeline a breaker keys
// each attempt by its URL, so every replica has its own breaker; a hedge
// an open replica's breaker refuses neither wins nor cancels the original,
// and later hedges go to the replica that is not refusing.
func TestReplicaBreakerPerReplica(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sentTo []string
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			mu.Lock()
			sentTo = append(sentTo, req.URL.Hostname())
			mu.Unlock()
			switch req.URL.Hostname() {
			case "b.test":
				return testkit.Respond(req, http.StatusBadGateway, "down", nil), nil
			case "a.test":
				if err := testkit.Sleep(req.Context(), 50*time.Millisecond); err != nil {
					return nil, err
				}
			}
			return testkit.Respond(req, http.StatusOK, "ok", nil), nil
		}}
		b := breaker.New(breaker.Config{})
		var winners []int
		h := hedge.New(hedge.Config{Delay: 10 * time.Millisecond,
			Replicas:   hedge.Replicas{Addrs: []string{"a.test:80", "b.test:80", "c.test:80"}},
			OnComplete: func(i hedge.CompleteInfo) { winners = append(winners, i.Winner) }})
		rt := pipeline.NewWithBase(stub, h, retry.New(retry.Config{}), b)
		do := func(target string) int {
			req, _ := http.NewRequest(http.MethodGet, target, nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatalf("GET %s: %v", target, err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		for range breaker.DefaultConsecutiveFailures { // b fails, and its breaker opens
			req, _ := http.NewRequest(http.MethodGet, "http://b.test/", nil)
			resp, err := b.Wrap(stub).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if st := b.StateOf("http://b.test:80"); st != breaker.Open {
			t.Fatalf("b is %v", st)
		}
		if a, c := b.StateOf("http://a.test:80"), b.StateOf("http://c.test:80"); a != breaker.Closed || c != breaker.Closed {
			t.Fatalf("a %v, c %v: another replica's failures opened them", a, c)
		}
		winners = nil
		mu.Lock()
		sentTo = nil
		mu.Unlock()

		// The hedges take turns between b and c, c first. The second names
		// b: refused, it waits for the original, which wins at 50 ms; the
		// stage has learnt b refuses, and every later hedge goes to c.
		for range 6 {
			if code := do("http://a.test/"); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
		}
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, host := range sentTo {
			if host == "b.test" {
				t.Errorf("a request reached b, whose breaker is open: %q", sentTo)
			}
		}
		if want := []int{2, 1, 2, 2, 2, 2}; !slices.Equal(winners, want) {
			t.Errorf("winners %v: the refused hedge must neither win nor cancel the original, and no later hedge go to b", winners)
		}
	})
}

// TestReplicaFailedTryResentElsewhere: in the recommended order a try that
// fails on one replica (a 503 the inner retry stage sees first) is re-sent
// by the hedge stage at once, and to another replica.
func TestReplicaFailedTryResentElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sentTo []string
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			mu.Lock()
			sentTo = append(sentTo, req.URL.Hostname())
			mu.Unlock()
			if req.URL.Hostname() == "a.test" {
				return testkit.Respond(req, http.StatusServiceUnavailable, "down", nil), nil
			}
			return testkit.Respond(req, http.StatusOK, "ok", nil), nil
		}}
		h := hedge.New(hedge.Config{Delay: time.Second, Replicas: hedge.Replicas{Addrs: []string{"a.test:80", "b.test:80"}}})
		rt := pipeline.NewWithBase(stub, h, retry.New(retry.Config{}), breaker.New(breaker.Config{}))
		req, _ := http.NewRequest(http.MethodGet, "http://a.test/", nil)
		start := time.Now()
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || time.Since(start) != 0 {
			t.Errorf("status %d after %v, want 200 at once", resp.StatusCode, time.Since(start))
		}
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(sentTo) < 2 || sentTo[0] != "a.test" || sentTo[1] != "b.test" {
			t.Errorf("attempts went to %q, want a.test, then b.test", sentTo)
		}
	})
}

// TestReplicaOpenBreakerFailsOver: a request whose replica's breaker is
// open goes at once to another replica, whose breaker is closed; when
// every replica's breaker is open, the caller gets ErrOpen at once, each
// replica having been asked once.
func TestReplicaOpenBreakerFailsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sentTo []string
		down := map[string]bool{"a.test": true}
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			sentTo = append(sentTo, req.URL.Hostname())
			if down[req.URL.Hostname()] {
				return testkit.Respond(req, http.StatusBadGateway, "down", nil), nil
			}
			return testkit.Respond(req, http.StatusOK, "ok", nil), nil
		}}
		b := breaker.New(breaker.Config{})
		open := func(host string) {
			for range breaker.DefaultConsecutiveFailures {
				req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
				resp, err := b.Wrap(stub).RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if st := b.StateOf("http://" + host + ":80"); st != breaker.Open {
				t.Fatalf("%s is %v", host, st)
			}
		}
		open("a.test")
		h := hedge.New(hedge.Config{Delay: time.Second, Replicas: hedge.Replicas{Addrs: []string{"a.test:80", "b.test:80"}}})
		rt := pipeline.NewWithBase(stub, h, retry.New(retry.Config{}), b)
		do := func() (int, error) {
			req, _ := http.NewRequest(http.MethodGet, "http://a.test/", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		mu.Lock()
		sentTo = nil
		mu.Unlock()
		start := time.Now()
		if code, err := do(); code != http.StatusOK || time.Since(start) != 0 {
			t.Errorf("a's breaker open: %d, %v after %v, want 200 from b at once", code, err, time.Since(start))
		}
		mu.Lock()
		if len(sentTo) != 1 || sentTo[0] != "b.test" {
			t.Errorf("sent to %q, want b.test only (a's breaker refused without sending)", sentTo)
		}
		down["b.test"] = true
		mu.Unlock()

		open("b.test")
		start = time.Now()
		if _, err := do(); !errors.Is(err, breaker.ErrOpen) || time.Since(start) != 0 {
			t.Errorf("every breaker open: %v after %v, want ErrOpen at once", err, time.Since(start))
		}
		if st := h.Stats(); st.Hedges != 2 || st.HedgeWins != 1 {
			t.Errorf("stats %+v: want one failover hedge per request, the first winning", st)
		}
	})
}
