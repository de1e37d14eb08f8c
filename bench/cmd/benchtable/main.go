// Command benchtable turns `go test -bench` output from overhead_test.go
// into Markdown tables, one per benchmark and upstream, with each client's
// median ns/op, B/op and allocs/op and its difference to client=bare
// measured in the same run.
//
//	go test -run '^$' -bench . -count 5 | tee new.txt
//	go run ./cmd/benchtable < new.txt
//
// Use benchstat to compare two runs; this tool only lays one run out
// against its own baseline.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// sample is one client's measurements across -count runs.
type sample struct {
	ns, bytes, allocs []float64
}

type group struct {
	name    string
	order   []string // clients in first-seen order
	clients map[string]*sample
}

func run(r io.Reader, w io.Writer) error {
	var groups []*group
	byName := map[string]*group{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, client, s, ok := parseLine(sc.Text())
		if !ok {
			continue
		}
		g := byName[name]
		if g == nil {
			g = &group{name: name, clients: map[string]*sample{}}
			byName[name] = g
			groups = append(groups, g)
		}
		acc := g.clients[client]
		if acc == nil {
			acc = &sample{}
			g.clients[client] = acc
			g.order = append(g.order, client)
		}
		acc.ns = append(acc.ns, s.ns...)
		acc.bytes = append(acc.bytes, s.bytes...)
		acc.allocs = append(acc.allocs, s.allocs...)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(groups) == 0 {
		return fmt.Errorf("no benchmark lines with client= found")
	}
	for _, g := range groups {
		write(w, g)
	}
	return nil
}

// parseLine reads "BenchmarkGet/upstream=stub/client=bare-2  N  600 ns/op
// [x MB/s]  472 B/op  8 allocs/op" into ("Get/upstream=stub", "bare", …).
func parseLine(line string) (name, client string, s sample, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", "", s, false
	}
	full := strings.TrimPrefix(f[0], "Benchmark")
	i := strings.Index(full, "/client=")
	if i < 0 {
		return "", "", s, false
	}
	name, client = full[:i], full[i+len("/client="):]
	if j := strings.LastIndex(client, "-"); j >= 0 {
		if _, err := strconv.Atoi(client[j+1:]); err == nil {
			client = client[:j] // the GOMAXPROCS suffix
		}
	}
	for k := 2; k+1 < len(f); k += 2 {
		v, err := strconv.ParseFloat(f[k], 64)
		if err != nil {
			continue
		}
		switch f[k+1] {
		case "ns/op":
			s.ns = append(s.ns, v)
		case "B/op":
			s.bytes = append(s.bytes, v)
		case "allocs/op":
			s.allocs = append(s.allocs, v)
		}
	}
	return name, client, s, len(s.ns) > 0
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	ys := slices.Clone(xs)
	slices.Sort(ys)
	if n := len(ys); n%2 == 1 {
		return ys[n/2]
	} else {
		return (ys[n/2-1] + ys[n/2]) / 2
	}
}

func write(w io.Writer, g *group) {
	base := g.clients["bare"]
	fmt.Fprintf(w, "\n%s (medians of %d runs)\n\n", g.name, len(g.clients[g.order[0]].ns))
	fmt.Fprintln(w, "| client | ns/op | × bare | B/op | Δ B/op | allocs/op | Δ allocs |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, c := range g.order {
		s := g.clients[c]
		ns, b, a := median(s.ns), median(s.bytes), median(s.allocs)
		ratio, db, da := "", "", ""
		if base != nil {
			ratio = fmt.Sprintf("%.2f×", ns/median(base.ns))
			db = fmt.Sprintf("%+.0f", b-median(base.bytes))
			da = fmt.Sprintf("%+.0f", a-median(base.allocs))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f | %s | %.0f | %s |\n", c, human(ns), ratio, b, db, a, da)
	}
}

func human(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}
