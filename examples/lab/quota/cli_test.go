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
