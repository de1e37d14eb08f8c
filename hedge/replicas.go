package hedge

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/internal/hostkey"
)

// maxReplicas bounds Replicas.Addrs. Choosing a replica scans the list, and
// a hedge needs a handful of candidates, not a fleet.
const maxReplicas = 1024

// Replicas sends a request's hedges to other replicas of the same service,
// as in the Tail at Scale, rather than to the URL the original went to:
// with client-side load balancing a hedge to the same replica, often over
// the same keep-alive or HTTP/2 connection, cannot escape that replica's
// stall (a GC pause, a noisy neighbour). Set it in [Config.Replicas]; the
// zero value sends every attempt to the request's own URL.
//
// # Which requests
//
// A request whose URL targets a listed replica (same host, port and
// scheme, for a replica whose scheme is known; see Addrs) is sent there by its original
// attempt, unchanged; its hedges go to the other replicas (see [Hedger],
// "Replicas"). A request to any other host is hedged to its own URL, as
// without Replicas, and is sent without credentials (see below).
//
// # Safety
//
//   - A hedge only ever goes to a listed replica: Pick returns an index
//     into Addrs, never a URL, and the hedge's URL is the request's with
//     only its scheme and host replaced, so no path ("//evil.example/")
//     can redirect it.
//   - Authorization, Cookie and Proxy-Authorization headers, and user
//     information in the URL, reach listed replicas and nowhere else: a
//     stage with Replicas removes them from every request to an unlisted
//     host, on a copy of the request. That includes a redirect from a
//     replica that [http.Client] follows with the stage as its transport,
//     to which net/http itself copies them when the host name matches
//     (replicas behind one IP or name on different ports). A stage with
//     Replicas is thus bound to one service: give other services their
//     own client.
//   - The caller's request is never modified; each hedge is a copy with a
//     URL of its own and a body from GetBody, as for any hedge.
//
// # Host header and TLS server name
//
// By default a hedge's Host header is the replica's host (the Request.Host
// of the copy is cleared, so net/http sends the URL's host), and net/http
// verifies the replica's certificate against that host name, sending it as
// the TLS server name unless it is an IP address. With PreserveHost the
// hedge keeps the request's Host header (Request.Host, or the URL's host
// when that is empty), for virtual hosts behind IP addresses; the TLS
// server name is chosen by the transport, not per request, so set the base
// transport's TLSClientConfig.ServerName to that virtual host for HTTPS
// replicas listed by IP.
//
// # Concurrency
//
// Pick must be safe for concurrent use: hedges of different requests call
// it at once.
type Replicas struct {
	// Addrs lists the replicas of the service: base URLs such as
	// "https://10.0.0.7:8443" (scheme http or https, a host, an optional
	// port, no path, query or user information) or host:port pairs such
	// as "10.0.0.7:8080". A host:port pair takes the scheme of the URLs
	// listed, or, if there are none, of the request it serves; the URLs
	// may not mix http and https. Every replica thus has the scheme of the
	// requests that target one, and a hedge never changes it: an HTTPS
	// request is never hedged in clear text. At most 1024 entries, no two
	// naming the same replica. The order is the rotation's.
	Addrs []string

	// Pick, if set, chooses the replica each hedge goes to, in place of
	// the rotation: it returns an index into Addrs. An index outside Addrs
	// sends no hedge: the hedge is not sent, counted or charged, and the
	// request sends no further hedges. Pick is called on the hedge's own
	// goroutine, once per hedge, with no lock held; a panic in it decides
	// the race and is raised on the caller's goroutine, as a transport's
	// would. Requires Addrs.
	Pick func(PickInfo) int

	// PreserveHost keeps the request's Host header on hedges sent to
	// other replicas, instead of replacing it with the replica's host.
	// Requires Addrs.
	PreserveHost bool
}

// PickInfo is what [Replicas.Pick] chooses from.
type PickInfo struct {
	// Request is the caller's request. It must not be modified.
	Request *http.Request
	// Attempt is the hedge's attempt number: 2 for the first hedge.
	Attempt int
	// Tried lists, by index into Addrs, the replica of each earlier
	// attempt of the request whose replica was chosen, in attempt order:
	// the original's first.
	Tried []int
	// Refusing lists, by index into Addrs, the replicas an inner stage
	// recently refused to send to (see [Hedger], "Replicas").
	Refusing []int
}

// replicaAddr is one entry of Replicas.Addrs, parsed.
type replicaAddr struct {
	addr   string      // as listed, for HedgeInfo
	scheme string      // "" for a host:port entry: the request's
	host   string      // the URL host to send to
	key    hostkey.Key // Scheme empty for a host:port entry
}

// replica is a listed replica and what the stage learnt about it.
type replica struct {
	replicaAddr

	// refusedUntil is, in nanoseconds since the set's epoch, until when an
	// inner stage said it refuses requests to this replica; 0 if none is
	// known. See replicaSet.learn.
	refusedUntil atomic.Int64
	// tracked is the URL host the adaptive estimator of the replica's
	// originals is kept under (see hosts), as the latest original sent
	// to it spelt it; nil until one is. See replicaSet.tracked.
	tracked atomic.Pointer[string]
}

// replicaSet is a validated Replicas, shared by every request of a stage.
type replicaSet struct {
	list         []replica
	pick         func(PickInfo) int
	preserveHost bool
	epoch        time.Time     // origin of refusedUntil
	turn         atomic.Uint32 // the rotation: breaks ties between equally good replicas
}

// replicas validates c.Replicas, panicking with a message naming the field;
// nil when it is the zero value.
func (c Config) replicas(now time.Time) *replicaSet {
	rc := c.Replicas
	if len(rc.Addrs) == 0 {
		if rc.Pick != nil || rc.PreserveHost {
			panic("hedge: Replicas.Pick and Replicas.PreserveHost need Replicas.Addrs")
		}
		return nil
	}
	if len(rc.Addrs) > maxReplicas {
		panic(fmt.Sprintf("hedge: Replicas.Addrs must hold at most %d replicas, got %d", maxReplicas, len(rc.Addrs)))
	}
	s := &replicaSet{list: make([]replica, len(rc.Addrs)), pick: rc.Pick, preserveHost: rc.PreserveHost, epoch: now}
	for i, addr := range rc.Addrs {
		rep, err := parseReplica(addr)
		if err != nil {
			panic(fmt.Sprintf("hedge: Replicas.Addrs[%d] %q: %v", i, addr, err))
		}
		for j := range i {
			if o := s.list[j].scheme; o != "" && rep.scheme != "" && o != rep.scheme {
				panic(fmt.Sprintf("hedge: Replicas.Addrs[%d] %q and Replicas.Addrs[%d] %q mix http and https: "+
					"a hedge of an HTTPS request could go out in clear text", j, rc.Addrs[j], i, addr))
			}
			if s.list[j].overlaps(&rep) {
				panic(fmt.Sprintf("hedge: Replicas.Addrs[%d] %q names the same replica as Replicas.Addrs[%d] %q", i, addr, j, rc.Addrs[j]))
			}
		}
		s.list[i].replicaAddr = rep
	}
	// A host:port entry takes the scheme of the URL entries, if any: every
	// replica then has the scheme of the requests that match one, and no
	// hedge changes it — an HTTPS request is never hedged in clear text.
	scheme := ""
	for i := range s.list {
		scheme = max(scheme, s.list[i].scheme) // all the same, or ""
	}
	for i := range s.list {
		s.list[i].scheme, s.list[i].key.Scheme = scheme, scheme
	}
	return s
}

// parseReplica parses one entry of Replicas.Addrs.
func parseReplica(addr string) (replicaAddr, error) {
	if !strings.Contains(addr, "://") {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return replicaAddr{}, fmt.Errorf("want a base URL or host:port: %w", err)
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if host == "" || err != nil || p == 0 {
			return replicaAddr{}, fmt.Errorf("want host:port with a host and a port in 1-65535")
		}
		return replicaAddr{addr: addr, host: addr, key: hostkey.Key{Host: strings.ToLower(host), Port: uint16(p)}}, nil
	}
	u, err := url.Parse(addr)
	switch {
	case err != nil:
		return replicaAddr{}, err
	case u.Scheme != "http" && u.Scheme != "https":
		return replicaAddr{}, fmt.Errorf("scheme must be http or https")
	case u.Hostname() == "":
		return replicaAddr{}, fmt.Errorf("no host")
	case u.User != nil:
		return replicaAddr{}, fmt.Errorf("must not carry user information: credentials belong in the request")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return replicaAddr{}, fmt.Errorf("must be a base URL, without path, query or fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return replicaAddr{}, fmt.Errorf("port must be in 1-65535")
		}
	}
	return replicaAddr{addr: addr, scheme: u.Scheme, host: u.Host, key: hostkey.FromURL(u)}, nil
}

// matches reports whether a request URL with key k targets r.
func (r *replicaAddr) matches(k hostkey.Key) bool {
	return r.key.Host == k.Host && r.key.Port == k.Port && (r.key.Scheme == "" || r.key.Scheme == k.Scheme)
}

// overlaps reports whether some request URL would match both r and o.
func (r *replicaAddr) overlaps(o *replicaAddr) bool {
	if r.key.Host != o.key.Host || r.key.Port != o.key.Port {
		return false
	}
	return r.key.Scheme == "" || o.key.Scheme == "" || r.key.Scheme == o.key.Scheme
}

// index returns the index of the replica u targets, or -1 if u targets no
// listed replica. It does not allocate.
func (s *replicaSet) index(u *url.URL) int {
	k := hostkey.FromURL(u)
	for i := range s.list {
		if s.list[i].matches(k) {
			return i
		}
	}
	return -1
}

// target returns the URL that sends a request for u to replica i: u with
// its scheme (for a replica listed with one) and host replaced, and
// nothing else. Building it field by field, never by joining strings, is
// what keeps a path such as "//evil.example/x" from naming the host.
func (s *replicaSet) target(i int, u *url.URL) *url.URL {
	rep := &s.list[i]
	t := *u
	if rep.scheme != "" {
		t.Scheme = rep.scheme
	}
	t.Host = rep.host
	return &t
}

// hostHeader returns the Host a hedge of req sent to another replica
// carries: req's own with PreserveHost, else "" (net/http then sends the
// URL's host, the replica's).
func (s *replicaSet) hostHeader(req *http.Request) string {
	if !s.preserveHost {
		return ""
	}
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}
