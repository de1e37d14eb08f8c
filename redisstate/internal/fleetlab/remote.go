package fleetlab

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tailguard/tailguard/examples/lab/quota"
)

// EnvUpstream is the environment variable that turns a re-executed binary
// into an upstream process: it holds the JSON-encoded quota.Config.
const EnvUpstream = "TAILGUARD_FLEETLAB_UPSTREAM"

// controlPath prefixes the remote upstream's control endpoints, which
// the quota's clients never call.
const controlPath = "/_fleetlab/"

// StartUpstream runs the quota server with cfg in its own OS process (exe,
// run as by [Spawn], must call [Serve] first thing) and returns an
// Upstream that drives it: requests go to that process, and Inject and
// Arrivals reach it over loopback HTTP. A server in the test's own
// process would share it with the test's work (a race-instrumented binary,
// on a loaded machine) and stall with it, which bunches the arrivals it
// timestamps; in a process of its own, built without the race detector,
// it plays a production upstream. Close stops the process.
func StartUpstream(ctx context.Context, exe string, cfg quota.Config) (*Upstream, error) {
	env, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), EnvUpstream+"="+string(env))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fleetlab: start the upstream: %w", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), readyLine+" ")
	if err != nil || !ok {
		stdin.Close()
		cmd.Wait()
		return nil, fmt.Errorf("fleetlab: upstream not ready: %q, %v", line, err)
	}
	u := &Upstream{base: base, limit: quota.New(cfg).Limit(), client: &http.Client{Timeout: 30 * time.Second}}
	u.stop = func() {
		stdin.Close() // the process exits when its stdin closes
		io.Copy(io.Discard, stdout)
		cmd.Wait()
	}
	return u, nil
}

// serveUpstream runs this process as the upstream of StartUpstream: it
// serves on a loopback port, prints the ready line with its URL, and
// exits when stdin closes.
func serveUpstream(env string) {
	var cfg quota.Config
	if err := json.Unmarshal([]byte(env), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "fleetlab upstream:", err)
		os.Exit(1)
	}
	u := newUpstream(cfg, true)
	fmt.Println(readyLine, u.URL())
	io.Copy(io.Discard, os.Stdin)
	u.Close()
	os.Exit(0)
}

// serveControl answers the control endpoints of a remote upstream.
func (u *Upstream) serveControl(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, controlPath) {
	case "inject":
		worker, err1 := strconv.Atoi(r.FormValue("worker"))
		pause, err2 := time.ParseDuration(r.FormValue("pause"))
		if err1 != nil || err2 != nil {
			http.Error(w, "bad inject", http.StatusBadRequest)
			return
		}
		u.Inject(r.FormValue("group"), worker, pause)
	case "arrivals":
		json.NewEncoder(w).Encode(u.Arrivals())
	default:
		http.NotFound(w, r)
	}
}

// remoteInject asks a remote upstream to inject a pause.
func (u *Upstream) remoteInject(group string, worker int, pause time.Duration) {
	v := url.Values{"group": {group}, "worker": {strconv.Itoa(worker)}, "pause": {pause.String()}}
	resp, err := u.client.PostForm(u.base+controlPath+"inject", v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetlab: inject:", err)
		return
	}
	resp.Body.Close()
}

// remoteArrivals fetches a remote upstream's log.
func (u *Upstream) remoteArrivals() []Arrival {
	resp, err := u.client.Get(u.base + controlPath + "arrivals")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetlab: arrivals:", err)
		return nil
	}
	defer resp.Body.Close()
	var arr []Arrival
	if err := json.NewDecoder(resp.Body).Decode(&arr); err != nil {
		fmt.Fprintln(os.Stderr, "fleetlab: arrivals:", err)
	}
	return arr
}
