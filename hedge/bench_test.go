package hedge

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
)

// BenchmarkStub compares a bare in-memory transport with an idle hedge
// stage over it (armed, never fires): the difference is the stage's cost.
func BenchmarkStub(b *testing.B) {
	b.Run("bare", func(b *testing.B) { testkit.BenchGet(b, testkit.OK, "http://upstream.test/") })
	b.Run("fixed", func(b *testing.B) {
		testkit.BenchGet(b, New(Config{Delay: time.Hour}).Wrap(testkit.OK), "http://upstream.test/")
	})
	b.Run("adaptive", func(b *testing.B) {
		testkit.BenchGet(b, New(Config{Quantile: 0.95, WarmupDelay: time.Hour, MinDelay: time.Hour, MaxDelay: time.Hour}).Wrap(testkit.OK), "http://upstream.test/")
	})
	b.Run("replicas", func(b *testing.B) {
		replicas := Replicas{Addrs: []string{"upstream.test:80", "b.test:80", "c.test:80"}}
		testkit.BenchGet(b, New(Config{Delay: time.Hour, Replicas: replicas}).Wrap(testkit.OK), "http://upstream.test/")
	})
}

// BenchmarkLoopback is the same comparison over a real keep-alive
// connection to an httptest server.
func BenchmarkLoopback(b *testing.B) {
	srv, _ := testkit.NewServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	b.Run("bare", func(b *testing.B) { testkit.BenchGet(b, testkit.Transport(b), srv.URL) })
	b.Run("fixed", func(b *testing.B) {
		testkit.BenchGet(b, New(Config{Delay: time.Hour}).Wrap(testkit.Transport(b)), srv.URL)
	})
	b.Run("adaptive", func(b *testing.B) {
		testkit.BenchGet(b, New(Config{Quantile: 0.95, WarmupDelay: time.Hour, MinDelay: time.Hour, MaxDelay: time.Hour}).Wrap(testkit.Transport(b)), srv.URL)
	})
}

// BenchmarkHedgeFires is the cost of a request whose hedge fires and wins
// (the original is canceled).
func BenchmarkHedgeFires(b *testing.B) {
	slow := pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if !IsHedge(req.Context()) {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	})
	unlimited := func() *budget.Budget { return budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e12}) }
	b.Run("same URL", func(b *testing.B) {
		testkit.BenchGet(b, New(Config{Delay: time.Microsecond, Budget: unlimited()}).Wrap(slow), "http://upstream.test/")
	})
	b.Run("replica", func(b *testing.B) {
		replicas := Replicas{Addrs: []string{"upstream.test:80", "b.test:80", "c.test:80"}}
		testkit.BenchGet(b, New(Config{Delay: time.Microsecond, Budget: unlimited(), Replicas: replicas}).Wrap(slow), "http://upstream.test/")
	})
}

func BenchmarkEstimatorRecord(b *testing.B) {
	now := time.Now()
	e := newEstimator(now, nil)
	b.ReportAllocs()
	for b.Loop() {
		e.record(12*time.Millisecond, now)
	}
}

func BenchmarkEstimatorCompute(b *testing.B) {
	now := time.Now()
	e := newEstimator(now, nil)
	for i := range 1000 {
		e.record(time.Duration(i)*time.Microsecond, now)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.compute(0.95)
	}
}
