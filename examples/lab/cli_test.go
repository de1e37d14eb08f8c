package lab

import (
	"flag"
	"io"
	"testing"
)

func TestOptionsParse(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
	}{
		{nil, false},
		{[]string{"-dist", "d3", "-n", "5", "-rate", "10", "-sim", "1000", "-rounds", "2"}, false},
		{[]string{"-dist", "d9"}, true},
		{[]string{"-n", "0"}, true},
		{[]string{"-rate", "0"}, true},
		{[]string{"-sim", "999"}, true},
		{[]string{"-rounds", "0"}, true},
		{[]string{"stray"}, true},
		{[]string{"-no-such-flag"}, true},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o Options
		o.Register(fs)
		err := o.Parse(fs, tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
		}
	}
	var o Options
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	o.Register(fs)
	if err := o.Parse(fs, []string{"-dist", "d2"}); err != nil || o.Dist.Name != "d2" || o.N != 10000 || o.Rounds != 10 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}

func TestParseFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := fs.Int("n", 1, "")
	if err := ParseFlags(fs, []string{"-n", "3"}); err != nil || *n != 3 {
		t.Errorf("-n 3: %v, n = %d", err, *n)
	}
	if err := ParseFlags(fs, []string{"stray"}); err == nil {
		t.Error("positional argument accepted")
	}
}
