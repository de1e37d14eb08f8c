package faulttest_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/retry"
)

// badConfig is an invalid configuration and the field its panic must name.
type badConfig struct {
	pkg, field string
	desc       string
	new        func()
}

// Invalid configurations are programmer errors: New panics at once, as
// time.NewTicker does with a non-positive interval, with a message that
// starts with the package name and names the field, rather than clamping
// silently into an outage amplifier.
var badConfigs = []badConfig{
	{"retry", "MaxAttempts", "above the cap", func() { retry.New(retry.Config{MaxAttempts: retry.MaxAttemptsLimit + 1}) }},
	{"retry", "MaxAttempts", "negative", func() { retry.New(retry.Config{MaxAttempts: -1}) }},
	{"retry", "BaseDelay", "negative", func() { retry.New(retry.Config{BaseDelay: -time.Millisecond}) }},
	{"retry", "MaxDelay", "negative", func() { retry.New(retry.Config{MaxDelay: -time.Millisecond}) }},
	{"retry", "MaxDelay", "below BaseDelay (schedule not increasing)", func() {
		retry.New(retry.Config{BaseDelay: 2 * time.Second, MaxDelay: time.Second})
	}},
	{"retry", "MaxRetryAfter", "negative", func() { retry.New(retry.Config{MaxRetryAfter: -1}) }},
	{"retry", "AttemptTimeout", "negative", func() { retry.New(retry.Config{AttemptTimeout: -1}) }},
	{"retry", "MaxBufferedBody", "negative", func() { retry.New(retry.Config{MaxBufferedBody: -1}) }},

	{"breaker", "FailureRatio", "above 1", func() { breaker.New(breaker.Config{FailureRatio: 1.5}) }},
	{"breaker", "FailureRatio", "NaN", func() { breaker.New(breaker.Config{FailureRatio: math.NaN()}) }},
	{"breaker", "ConsecutiveFailures", "both rules disabled", func() {
		breaker.New(breaker.Config{ConsecutiveFailures: -1, FailureRatio: -1})
	}},
	{"breaker", "MinRequests", "negative", func() { breaker.New(breaker.Config{MinRequests: -1}) }},
	{"breaker", "Window", "negative", func() { breaker.New(breaker.Config{Window: -time.Second}) }},
	{"breaker", "Window", "too short to split", func() { breaker.New(breaker.Config{Window: 5}) }},
	{"breaker", "OpenTimeout", "negative", func() { breaker.New(breaker.Config{OpenTimeout: -time.Second}) }},
	{"breaker", "HalfOpenProbes", "negative", func() { breaker.New(breaker.Config{HalfOpenProbes: -1}) }},
	{"breaker", "IdleTTL", "negative", func() { breaker.New(breaker.Config{IdleTTL: -time.Second}) }},
	{"breaker", "MaxKeys", "negative", func() { breaker.New(breaker.Config{MaxKeys: -1}) }},
	{"breaker", "MaxWait", "negative", func() { breaker.New(breaker.Config{MaxWait: -time.Second}) }},

	{"hedge", "Delay", "negative", func() { hedge.New(hedge.Config{Delay: -time.Millisecond}) }},
	{"hedge", "WarmupDelay", "negative", func() { hedge.New(hedge.Config{WarmupDelay: -time.Millisecond}) }},
	{"hedge", "WarmupDelay", "with a fixed Delay", func() {
		hedge.New(hedge.Config{Delay: time.Millisecond, WarmupDelay: time.Millisecond})
	}},
	{"hedge", "Quantile", "with a fixed Delay", func() { hedge.New(hedge.Config{Delay: time.Millisecond, Quantile: 0.9}) }},
	{"hedge", "MaxHedges", "above the cap", func() { hedge.New(hedge.Config{MaxHedges: 11}) }},
	{"hedge", "MaxHedges", "negative", func() { hedge.New(hedge.Config{MaxHedges: -1}) }},
	{"hedge", "Quantile", "above 1", func() { hedge.New(hedge.Config{Quantile: 1.5}) }},
	{"hedge", "Quantile", "exactly 1", func() { hedge.New(hedge.Config{Quantile: 1}) }},
	{"hedge", "Quantile", "negative", func() { hedge.New(hedge.Config{Quantile: -0.1}) }},
	{"hedge", "Quantile", "NaN", func() { hedge.New(hedge.Config{Quantile: math.NaN()}) }},
	{"hedge", "MinDelay", "negative", func() { hedge.New(hedge.Config{MinDelay: -1}) }},
	{"hedge", "MaxDelay", "negative", func() { hedge.New(hedge.Config{MaxDelay: -1}) }},
	{"hedge", "MinDelay", "above MaxDelay", func() { hedge.New(hedge.Config{MinDelay: 2 * time.Second, MaxDelay: time.Second}) }},
	{"hedge", "Delays", "not increasing", func() {
		hedge.New(hedge.Config{Delays: []time.Duration{2 * time.Millisecond, time.Millisecond}})
	}},
	{"hedge", "Delays", "repeated value", func() {
		hedge.New(hedge.Config{Delays: []time.Duration{time.Millisecond, time.Millisecond}})
	}},
	{"hedge", "Delays", "zero delay", func() { hedge.New(hedge.Config{Delays: []time.Duration{0}}) }},
	{"hedge", "Delays", "negative delay", func() { hedge.New(hedge.Config{Delays: []time.Duration{-time.Millisecond}}) }},
	{"hedge", "Delays", "more than 10", func() { hedge.New(hedge.Config{Delays: make([]time.Duration, 11)}) }},
	{"hedge", "Delays", "empty, not nil", func() { hedge.New(hedge.Config{Delays: []time.Duration{}}) }},
	{"hedge", "Delay", "with Delays", func() {
		hedge.New(hedge.Config{Delay: time.Millisecond, Delays: []time.Duration{time.Millisecond}})
	}},
	{"hedge", "MaxHedges", "with Delays", func() {
		hedge.New(hedge.Config{MaxHedges: 2, Delays: []time.Duration{time.Millisecond}})
	}},
	{"hedge", "SLO target", "SLO: zero target", func() { hedge.SLO(0, 0.5) }},
	{"hedge", "SLO fractions", "SLO: not increasing", func() { hedge.SLO(time.Second, 0.5, 0.4) }},
	{"hedge", "SLO fractions", "SLO: above 1", func() { hedge.SLO(time.Second, 1.5) }},
	{"hedge", "SLO fractions", "SLO: none", func() { hedge.SLO(time.Second) }},

	{"budget", "Ratio", "above 1", func() { budget.New(budget.Config{Ratio: 1.5}) }},
	{"budget", "Ratio", "negative", func() { budget.New(budget.Config{Ratio: -0.1}) }},
	{"budget", "Ratio", "NaN", func() { budget.New(budget.Config{Ratio: math.NaN()}) }},
	{"budget", "MinPerSecond", "negative", func() { budget.New(budget.Config{MinPerSecond: -1}) }},
	{"budget", "MinPerSecond", "infinite", func() { budget.New(budget.Config{MinPerSecond: math.Inf(1)}) }},
	{"budget", "Window", "negative", func() { budget.New(budget.Config{Window: -time.Second}) }},
}

func TestInvalidConfigPanicsNamingTheField(t *testing.T) {
	for _, c := range badConfigs {
		t.Run(c.pkg+"/"+c.field+"/"+c.desc, func(t *testing.T) {
			msg, panicked := panicMessage(c.new)
			if !panicked {
				t.Fatalf("no panic")
			}
			if !strings.HasPrefix(msg, c.pkg+": ") || !strings.Contains(msg, c.field) {
				t.Errorf("panic %q: want it to start with %q and name %s", msg, c.pkg+": ", c.field)
			}
		})
	}
}

func panicMessage(f func()) (msg string, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			msg, panicked = fmt.Sprint(p), true
		}
	}()
	f()
	return "", false
}

// TestInvalidConfigIsDocumented checks that every field above documents
// its panic, on the field or on the Config type, so the rule is visible
// in godoc and not only in the code.
func TestInvalidConfigIsDocumented(t *testing.T) {
	for _, pkg := range []string{"retry", "breaker", "hedge", "budget"} {
		typeDoc, fieldDocs := configDocs(t, "../"+pkg+"/config.go")
		for _, c := range badConfigs {
			if c.pkg != pkg || strings.HasPrefix(c.field, "SLO") {
				continue
			}
			doc, ok := fieldDocs[c.field]
			if !ok {
				t.Errorf("%s.Config has no field %s", pkg, c.field)
				continue
			}
			if !strings.Contains(doc, "panic") && !strings.Contains(typeDoc, "panic") {
				t.Errorf("%s.Config.%s: neither the field nor the type documents the panic", pkg, c.field)
			}
		}
	}
}

func configDocs(t *testing.T, path string) (typeDoc string, fields map[string]string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	fields = make(map[string]string)
	ast.Inspect(f, func(n ast.Node) bool {
		gd, ok := n.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			return true
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if ts.Name.Name != "Config" || !ok {
				continue
			}
			typeDoc = gd.Doc.Text()
			for _, fl := range st.Fields.List {
				for _, name := range fl.Names {
					fields[name.Name] = fl.Doc.Text()
				}
			}
		}
		return false
	})
	if typeDoc == "" {
		t.Fatalf("%s: no documented Config type", path)
	}
	return typeDoc, fields
}
