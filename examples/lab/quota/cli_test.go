package quota

import (
	"bytes"
	"context"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/tailguard/tailguard/examples/lab"
)

func TestOptions(t *testing.T) {
	parse := func(args ...string) (Options, error) {
		fs := flag.NewFlagSet("q", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o Options
		o.Register(fs)
		return o, o.Parse(fs, args)
	}
	o, err := parse()
	if err != nil || !slices.Equal(o.Dialects, Dialects) || o.Limit.Rate != 100 || o.Limit.Burst != 10 || o.Load.Callers != 16 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	o, err = parse("-dialect", "bare, ietf", "-quota", "50")
	if err != nil || !slices.Equal(o.Dialects, []Dialect{Bare, IETF}) || o.Limit.Rate != 50 {
		t.Errorf("flags: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-dialect", "nginx"}, {"-quota", "0"}, {"-burst", "0"}, {"-latency", "-1s"},
		{"-callers", "0"}, {"-offered", "0"}, {"-duration", "0s"}, {"-timeout", "0s"}, {"extra"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestCommand(t *testing.T) {
	var built bool
	run := Command("q", func(o Options) []lab.Arm { built = true; return nil })
	if err := run(context.Background(), []string{"-quota", "0"}, io.Discard, io.Discard); err == nil || built {
		t.Errorf("bad flag: err %v, arms built %v", err, built)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"-dialect", "bare", "-duration", "100ms", "-quiet"}, &out, io.Discard)
	if err != nil || !built || !strings.Contains(out.String(), "bare (") {
		t.Errorf("err %v, arms built %v, output:\n%s", err, built, out.String())
	}
}

func TestWriteVerdicts(t *testing.T) {
	var buf bytes.Buffer
	writeVerdicts(&buf, []Result{{Name: ArmPlain}, {Name: "peer", Dialect: Bare, Quota: 100}})
	if buf.Len() != 0 {
		t.Errorf("no throttle arm, yet:\n%s", buf.String())
	}
	writeVerdicts(&buf, []Result{{Name: ArmPlain}, {Name: ArmThrottle, Dialect: Bare, Quota: 100, Goodput: 0.95},
		{Name: "peer", Dialect: Bare, Quota: 100, Goodput: 1, Sent: 10, Throttled: 5, Succeeded: 5}})
	out := buf.String()
	for _, want := range []string{"targets for tailguard throttle:", "met: goodput ≥ 90%", "vs peer", "MISSED: goodput no worse"} {
		if !strings.Contains(out, want) {
			t.Errorf("verdicts lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "plain") {
		t.Errorf("plain compared as a peer:\n%s", out)
	}

	// Given the quota by hand, the throttle is judged too, and it is no
	// peer of the learning arm.
	buf.Reset()
	writeVerdicts(&buf, []Result{{Name: ArmThrottle, Dialect: Bare, Quota: 100, Goodput: 0.95},
		{Name: ArmThrottleAtQuota, Dialect: Bare, Quota: 100, Goodput: 1}})
	out = buf.String()
	if !strings.Contains(out, "targets for "+ArmThrottleAtQuota+":") || strings.Contains(out, "vs "+ArmThrottleAtQuota) ||
		strings.Contains(out, "vs "+ArmThrottle) {
		t.Errorf("at-quota arm not judged apart:\n%s", out)
	}
}
