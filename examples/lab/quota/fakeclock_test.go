package quota

import (
	"net/http"
	"testing"

	"github.com/tailguard/tailguard/examples/lab"
)

func TestRunFakeClock(t *testing.T) {
	runs := RunFakeClock(t, []Dialect{Bare}, func() []lab.Arm {
		return []lab.Arm{{Name: "plain"}, {Name: "retry at once", Wrap: func(b http.RoundTripper) http.RoundTripper { return retryOn429{b} }}}
	})
	if len(runs) != 1 || len(runs[Bare]) != 2 {
		t.Fatalf("runs %v", runs)
	}
	if r := Find(t, runs[Bare], "plain"); r.Offered < 8500 || r.Quota != DefaultRate {
		t.Errorf("plain: %d offered against %v/s: not the default workload", r.Offered, r.Quota)
	}
}
