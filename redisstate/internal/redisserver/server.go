// Package redisserver runs a real redis-server (Debian's package) for the
// tests and the example of the redisstate module: on a free loopback port,
// with persistence off, in a temporary directory that Close removes.
//
// Tests use [Test], which fails the test under CI=true when redis-server is
// missing and skips it, loudly, elsewhere. A Server can also be killed,
// restarted on the same port, and frozen (SIGSTOP) to play a Redis that
// hangs, which is what the fault tests need.
package redisserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled reports that no redis-server binary was found.
var ErrNotInstalled = errors.New("redisserver: redis-server not found in PATH (Debian: apt-get install redis-server)")

// readyTimeout bounds how long a started redis-server may take to answer
// PING: a loaded 2-core machine can take a second or two to exec it.
const readyTimeout = 15 * time.Second

// Server is one redis-server process. Its methods are safe for concurrent
// use.
type Server struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex // guards proc and done
	proc *exec.Cmd  // nil while killed
	done chan error // receives proc's exit
}

// Binary returns the path of redis-server: $REDIS_SERVER if set, else the
// one found in PATH.
func Binary() (string, error) {
	name := "redis-server"
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		name = p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w (%v)", ErrNotInstalled, err)
	}
	return p, nil
}

// Start starts redis-server on a free loopback port and waits until it
// answers PING.
func Start() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tailguard-redis-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir}
	// The port is free when probed but may be taken before redis-server
	// binds it; another port is then tried.
	for try := 0; ; try++ {
		if s.port, err = freePort(); err == nil {
			err = s.start()
		}
		if err == nil || try == 4 {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Kill stops the server at once with SIGKILL, as a crash would, and waits
// for it to exit. Killing a killed server does nothing.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	s.proc.Process.Kill() // SIGKILL ends a frozen process too
	<-s.done
	s.proc = nil
	return nil
}

// Restart starts a killed server again on the same port, empty, and waits
// until it answers PING.
func (s *Server) Restart() error {
	s.mu.Lock()
	running := s.proc != nil
	s.mu.Unlock()
	if running {
		return errors.New("redisserver: Restart of a running server")
	}
	var err error
	for try := 0; try < 5; try++ { // the port may linger a moment after the kill
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Freeze stops the server with SIGSTOP: connections stay open and nothing
// is answered, which is what a hung or overloaded Redis looks like to a
// client. Thaw resumes it.
func (s *Server) Freeze() error { return s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT) }

// Close kills the server and removes its directory.
func (s *Server) Close() error {
	s.Kill()
	return os.RemoveAll(s.dir)
}

func (s *Server) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("redisserver: server is not running")
	}
	return s.proc.Process.Signal(sig)
}

// start runs redis-server on s.port and waits for PING to succeed.
func (s *Server) start() error {
	out := &tail{}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "", // no RDB snapshots
		"--appendonly", "no", // no AOF
		"--dir", s.dir,
		"--daemonize", "no",
		"--loglevel", "warning",
	)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redisserver: start %s: %w", s.bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := waitReady(ctx, s.Addr(), done); err != nil {
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("redisserver: redis-server on port %d: %w; output: %s", s.port, err, out.String())
	}
	s.mu.Lock()
	s.proc, s.done = cmd, done
	s.mu.Unlock()
	return nil
}

// waitReady polls addr with PING until it answers PONG, the process exits,
// or ctx ends.
func waitReady(ctx context.Context, addr string, exited <-chan error) error {
	for {
		if ping(addr) == nil {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before ready: %v", err)
		case <-ctx.Done():
			return errors.New("not ready in time")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ping sends one RESP PING. The harness speaks RESP by hand so that it
// tests the server, not the client under test.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last few KiB written to it.
type tail struct {
	mu  sync.Mutex // guards buf
	buf []byte
}

const tailMax = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = t.buf[len(t.buf)-tailMax:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
