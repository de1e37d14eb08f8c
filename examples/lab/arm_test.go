package lab

import (
	"context"
	"net/http"
	"testing"
)

func TestCompareSameDrawsPerArm(t *testing.T) {
	srv := NewServer(D1, 1, 0)
	defer srv.Close()
	// Two identical bare arms see the same draws: the same count of 1 s stalls.
	twice := func(base http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := base.RoundTrip(r.Clone(r.Context()))
			if err == nil {
				resp.Body.Close()
			}
			return base.RoundTrip(r)
		})
	}
	res := Compare(context.Background(), srv, Load{N: 200, Rate: 2000, Seed: 4},
		[]Arm{{Name: "a"}, {Name: "b"}, {Name: "double", Wrap: twice}}, nil)
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.N != 200 || r.Errors != 0 {
			t.Errorf("%s: n=%d errors=%d", r.Name, r.N, r.Errors)
		}
	}
	if res[0].Extra != 0 || res[1].Extra != 0 {
		t.Errorf("bare arms have extra %v, %v; want 0", res[0].Extra, res[1].Extra)
	}
	if res[2].Extra != 1 {
		t.Errorf("double arm extra = %v, want 1 (two attempts per request)", res[2].Extra)
	}
	if stalls(res[0]) != stalls(res[1]) {
		t.Errorf("arms saw %d and %d stalls from the same seed", stalls(res[0]), stalls(res[1]))
	}
}

func stalls(r Result) int {
	n := 0
	for _, l := range r.Sorted {
		if l.Seconds() >= 0.9 {
			n++
		}
	}
	return n
}

func TestCompareRounds(t *testing.T) {
	srv := NewServer(D1, 1, 0)
	defer srv.Close()
	res := Compare(context.Background(), srv, Load{N: 100, Rate: 2000, Seed: 4, Rounds: 3},
		[]Arm{{Name: "a"}, {Name: "b"}}, nil)
	for _, r := range res {
		if r.N != 100 || r.Extra != 0 || r.Errors != 0 {
			t.Errorf("%s: n=%d extra=%v errors=%d", r.Name, r.N, r.Extra, r.Errors)
		}
	}
	if stalls(res[0]) != stalls(res[1]) {
		t.Errorf("arms saw %d and %d stalls in the same rounds", stalls(res[0]), stalls(res[1]))
	}
}
