package fleetlab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// EnvWorker is the environment variable that turns a re-executed binary
// into a worker: it holds the worker's JSON-encoded [Worker].
const EnvWorker = "TAILGUARD_FLEETLAB_WORKER"

// Serve runs this process as a worker and exits if EnvWorker is set, as
// the upstream of [StartUpstream] if EnvUpstream is, and returns at once
// otherwise. Call it first thing in main or TestMain: the
// worker writes its JSON [Report] to stdout and exits 0, or writes the
// error to stderr and exits 1.
func Serve() {
	if env := os.Getenv(EnvUpstream); env != "" {
		serveUpstream(env)
	}
	env := os.Getenv(EnvWorker)
	if env == "" {
		return
	}
	var w Worker
	if err := json.Unmarshal([]byte(env), &w); err != nil {
		fmt.Fprintln(os.Stderr, "fleetlab worker:", err)
		os.Exit(1)
	}
	rep, err := Run(context.Background(), w, func() (time.Time, error) {
		fmt.Println(readyLine)
		var ns int64
		if _, err := fmt.Fscanln(os.Stdin, &ns); err != nil {
			return time.Time{}, fmt.Errorf("reading the start time: %w", err)
		}
		return time.Unix(0, ns), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetlab worker", w, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, "fleetlab worker:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// readyLine is what a worker prints when it is set up; it then reads the
// run's start, in Unix nanoseconds, from stdin.
const readyLine = "ready"

// lead is how long after the last worker is ready the run starts.
const lead = 300 * time.Millisecond

// Spawn runs every worker as its own OS process, running exe with args,
// starts them together once all are set up, and returns the run's start
// and their reports in the order of workers once all have exited. Each
// worker's Start is replaced by that common start. ctx kills the
// processes when it ends; started, if non-nil, is called with the start
// before it comes, so that the caller can schedule faults.
func Spawn(ctx context.Context, exe string, args []string, workers []Worker, started func(time.Time)) (time.Time, []Report, error) {
	reps := make([]Report, len(workers))
	errs := make([]error, len(workers))
	stdins := make([]io.WriteCloser, len(workers))
	readies := make(chan error, len(workers))
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, w := range workers {
		env, err := json.Marshal(w)
		if err != nil {
			return time.Time{}, nil, err
		}
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Env = append(os.Environ(), EnvWorker+"="+string(env))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err == nil {
			stdins[i], err = cmd.StdinPipe()
		}
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			return time.Time{}, nil, fmt.Errorf("fleetlab: start worker %v: %w", w, err)
		}
		wg.Go(func() {
			out := bufio.NewReader(stdout)
			line, err := out.ReadString('\n')
			if err != nil || strings.TrimSpace(line) != readyLine {
				err = fmt.Errorf("fleetlab: worker %v not ready: %q, %v", w, line, err)
			}
			readies <- err
			if err == nil {
				err = json.NewDecoder(out).Decode(&reps[i])
			}
			io.Copy(io.Discard, out)
			if werr := cmd.Wait(); werr != nil {
				err = fmt.Errorf("fleetlab: worker %v: %w: %s", w, werr, stderr.Bytes())
			}
			errs[i] = err
		})
	}
	var start time.Time
	for range workers {
		if err := <-readies; err != nil {
			for _, in := range stdins {
				in.Close() // a worker reading its start gets EOF and exits
			}
			return start, nil, err
		}
	}
	start = time.Now().Add(lead)
	if started != nil {
		started(start)
	}
	for _, in := range stdins {
		fmt.Fprintln(in, start.UnixNano())
		in.Close()
	}
	wg.Wait()
	for i := range reps {
		if errs[i] != nil {
			return start, reps, errs[i]
		}
	}
	return start, reps, nil
}

// Build compiles the fleetworker command into dir, without the race
// detector, and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("fleetlab: building the worker needs the go command: %w", err)
	}
	exe := filepath.Join(dir, "fleetworker")
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", exe, "github.com/tailguard/tailguard/redisstate/internal/fleetlab/fleetworker")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("fleetlab: build the worker: %w: %s", err, out)
	}
	return exe, nil
}
