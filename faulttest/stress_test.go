package faulttest_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

type trackedCtxBody struct {
	ctx    context.Context
	r      io.Reader
	open   *atomic.Int64
	closed atomic.Bool
}

func (b *trackedCtxBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}
func (b *trackedCtxBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.open.Add(-1)
	}
	return nil
}

type sr struct{ s string }

func (r *sr) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

func stress(t *testing.T, seed uint64, order int) {
	var open atomic.Int64
	rng := rand.New(rand.NewPCG(seed, 7))
	var rmu sync.Mutex
	rnd := func(n int) int { rmu.Lock(); defer rmu.Unlock(); return rng.IntN(n) }
	stub := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Body != nil {
			io.Copy(io.Discard, req.Body)
			req.Body.Close()
		}
		d := time.Duration(rnd(40)) * time.Millisecond
		kind := rnd(7)
		if err := testkit.Sleep(req.Context(), d); err != nil {
			return nil, err
		}
		switch kind {
		case 0:
			return nil, errors.New("reset")
		}
		status := []int{200, 200, 503, 404, 429, 500}[kind-1]
		open.Add(1)
		b := &trackedCtxBody{ctx: req.Context(), r: &sr{s: "body"}, open: &open}
		h := http.Header{}
		if status == 429 {
			h.Set("Retry-After", "0")
		}
		return &http.Response{StatusCode: status, Header: h, Body: b, Request: req}, nil
	})
	bud := budget.New(budget.Config{Ratio: 0.5})
	h := hedge.New(hedge.Config{Delay: 5 * time.Millisecond, MaxHedges: 2, Budget: bud})
	r := retry.New(retry.Config{Budget: bud, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, AttemptTimeout: 30 * time.Millisecond})
	b := breaker.New(breaker.Config{OpenTimeout: 10 * time.Millisecond, ConsecutiveFailures: 3})
	var p http.RoundTripper
	if order == 0 {
		p = pipeline.NewWithBase(stub, h, r, b)
	} else {
		p = pipeline.NewWithBase(stub, r, h, b)
	}
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		wg.Add(1)
		cancelAt := time.Duration(rnd(80)) * time.Millisecond
		doCancel := rnd(3) == 0
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if doCancel {
				time.AfterFunc(cancelAt, cancel)
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://u.test/", nil)
			resp, err := p.RoundTrip(req)
			if err != nil {
				if resp != nil {
					t.Errorf("both resp and err")
				}
				return
			}
			_, rerr := io.ReadAll(resp.Body)
			if rerr != nil && ctx.Err() == nil {
				t.Errorf("winner body read failed: %v (status %d)", rerr, resp.StatusCode)
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	synctest.Wait()
	if n := open.Load(); n != 0 {
		t.Errorf("seed %d order %d: %d bodies left open", seed, order, n)
	}
}

func TestStressPipelines(t *testing.T) {
	for order := 0; order < 2; order++ {
		for seed := uint64(0); seed < 30; seed++ {
			synctest.Test(t, func(t *testing.T) { stress(t, seed, order) })
		}
	}
}
