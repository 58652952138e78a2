// Command podnet serves the local cluster's pods: one process opens, inside
// each pod's network namespace, a listener per declared container port. TCP
// connections get an HTTP/1.1 200 response whose body is the pod name plus a
// newline; UDP datagrams are answered with the pod name plus a newline.
//
// Protocol: one JSON object per line on stdin, one reply per line on stdout.
//
//	{"req":1,"op":"open","id":"<uid>","netns":"/run/netns/x","name":"pod","ports":[{"port":80,"protocol":"TCP"}]}
//	{"req":2,"op":"close","id":"<uid>"}
//	{"req":3,"op":"ping"}
//	{"req":4,"op":"health","id":"<uid>","unhealthy":true}
//	{"req":5,"op":"probe","netns":"/run/netns/node","target":"198.19.16.5:80","kind":"http","path":"/","timeoutMs":1000}
//
// Reply: {"req":1,"ok":true} or {"req":1,"ok":false,"error":"..."}.
// "open" is all-or-nothing per id and replaces the id's previous listeners.
// Each port may carry "netns" to open it in another namespace (hostPort),
// "hostIP" to listen on one address only, and "families" (["IPv4","IPv6"]) to
// listen on the wildcard address of each family (default IPv4 only; IPv6
// sockets are v6-only, so a pod answers on each of its addresses).
// "open" and "health" carry the pod's health: while "unhealthy" its TCP
// listeners answer 503 Service Unavailable (same body) instead of 200, so an
// httpGet readiness probe fails while traffic still reaches the pod.
// "probe" connects from inside "netns" to "target" as kubelet's prober does:
// kind "tcp" succeeds when the connection opens; kind "http" sends
// GET "path" and succeeds on a status from 200 to 399; ok=false otherwise.
// The process exits when stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

type portSpec struct {
	Port     int      `json:"port"`
	Protocol string   `json:"protocol"`
	Netns    string   `json:"netns,omitempty"`
	HostIP   string   `json:"hostIP,omitempty"`
	Families []string `json:"families,omitempty"`
}

type request struct {
	Req       int64      `json:"req"`
	Op        string     `json:"op"`
	ID        string     `json:"id"`
	Netns     string     `json:"netns"`
	Name      string     `json:"name"`
	Ports     []portSpec `json:"ports"`
	Unhealthy bool       `json:"unhealthy,omitempty"`
	Target    string     `json:"target,omitempty"`
	Kind      string     `json:"kind,omitempty"`
	Path      string     `json:"path,omitempty"`
	TimeoutMs int        `json:"timeoutMs,omitempty"`
}

type reply struct {
	Req   int64  `json:"req"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

type server struct {
	mu     sync.Mutex
	pods   map[string][]io.Closer
	health map[string]*atomic.Bool // per pod id: true while unhealthy
}

func main() {
	s := &server{pods: map[string][]io.Closer{}, health: map[string]*atomic.Bool{}}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintf(os.Stderr, "podnet: bad request: %v\n", err)
			continue
		}
		go func(r request) {
			err := s.handle(r)
			rep := reply{Req: r.Req, OK: err == nil}
			if err != nil {
				rep.Error = err.Error()
			}
			outMu.Lock()
			defer outMu.Unlock()
			_ = out.Encode(rep)
		}(r)
	}
}

func (s *server) handle(r request) error {
	switch r.Op {
	case "ping":
		return nil
	case "close":
		s.close(r.ID)
		return nil
	case "open":
		return s.open(r)
	case "health":
		s.unhealthyFlag(r.ID).Store(r.Unhealthy)
		return nil
	case "probe":
		return probe(r)
	}
	return fmt.Errorf("unknown op %q", r.Op)
}

// unhealthyFlag is the pod's health switch, shared by all its listeners.
func (s *server) unhealthyFlag(id string) *atomic.Bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.health[id]
	if f == nil {
		f = &atomic.Bool{}
		s.health[id] = f
	}
	return f
}

func (s *server) close(id string) {
	s.mu.Lock()
	ls := s.pods[id]
	delete(s.pods, id)
	delete(s.health, id)
	s.mu.Unlock()
	for _, l := range ls {
		_ = l.Close()
	}
}

func (s *server) open(r request) error {
	s.close(r.ID)
	var opened []io.Closer
	body := []byte(r.Name + "\n")
	unhealthy := s.unhealthyFlag(r.ID)
	unhealthy.Store(r.Unhealthy)
	for _, p := range r.Ports {
		ns := r.Netns
		if p.Netns != "" {
			ns = p.Netns
		}
		c, err := listenIn(ns, p, body, unhealthy)
		if err != nil {
			for _, o := range opened {
				_ = o.Close()
			}
			return fmt.Errorf("%s %d in %s: %w", p.Protocol, p.Port, ns, err)
		}
		opened = append(opened, c)
	}
	s.mu.Lock()
	s.pods[r.ID] = opened
	s.mu.Unlock()
	return nil
}

// listenIn creates the socket inside the namespace at nsPath, then serves it
// from ordinary goroutines.
func listenIn(nsPath string, p portSpec, body []byte, unhealthy *atomic.Bool) (io.Closer, error) {
	return inNetns(nsPath, func() (io.Closer, error) { return listen(p, body, unhealthy) })
}

// inNetns runs fn on a locked OS thread that has joined the network namespace
// at nsPath (setns), so the sockets fn creates belong to that namespace, and
// returns what fn returns. The thread is released only once it is back in its
// own namespace; otherwise it stays locked and exits with its goroutine.
func inNetns[T any](nsPath string, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		restored := false
		defer func() {
			if restored {
				runtime.UnlockOSThread()
			} // else: the thread stays locked and exits with the goroutine
		}()
		var zero T
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			done <- result{zero, err}
			return
		}
		defer orig.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			restored = true
			done <- result{zero, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			restored = true
			done <- result{zero, err}
			return
		}
		v, ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err == nil {
			restored = true
		}
		done <- result{v, ferr}
	}()
	res := <-done
	return res.v, res.err
}

// multiCloser closes every listener of one port (one per family).
type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var first error
	for _, c := range m {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// networkSuffixes is "4" and/or "6": the family of hostIP when set, else
// each requested family (IPv4 when none is named).
func networkSuffixes(p portSpec) ([]string, error) {
	if p.HostIP != "" {
		ip := net.ParseIP(p.HostIP)
		if ip == nil {
			return nil, fmt.Errorf("bad hostIP %q", p.HostIP)
		}
		if ip.To4() != nil {
			return []string{"4"}, nil
		}
		return []string{"6"}, nil
	}
	if len(p.Families) == 0 {
		return []string{"4"}, nil
	}
	var out []string
	for _, f := range p.Families {
		switch f {
		case "IPv4":
			out = append(out, "4")
		case "IPv6":
			out = append(out, "6")
		default:
			return nil, fmt.Errorf("unknown family %q", f)
		}
	}
	return out, nil
}

func listen(p portSpec, body []byte, unhealthy *atomic.Bool) (io.Closer, error) {
	suffixes, err := networkSuffixes(p)
	if err != nil {
		return nil, err
	}
	var opened multiCloser
	for _, v := range suffixes {
		c, err := listenOne(p, v, body, unhealthy)
		if err != nil {
			_ = opened.Close()
			return nil, err
		}
		opened = append(opened, c)
	}
	return opened, nil
}

func listenOne(p portSpec, v string, body []byte, unhealthy *atomic.Bool) (io.Closer, error) {
	addr := net.JoinHostPort(p.HostIP, fmt.Sprint(p.Port))
	switch strings.ToUpper(p.Protocol) {
	case "", "TCP":
		l, err := net.Listen("tcp"+v, addr)
		if err != nil {
			return nil, err
		}
		go serveTCP(l, body, unhealthy)
		return l, nil
	case "UDP":
		c, err := net.ListenPacket("udp"+v, addr)
		if err != nil {
			return nil, err
		}
		go serveUDP(c, body)
		return c, nil
	}
	return nil, fmt.Errorf("unsupported protocol %q", p.Protocol)
}

func serveTCP(l net.Listener, body []byte, unhealthy *atomic.Bool) {
	httpResponse := func(status string) []byte {
		return []byte(fmt.Sprintf("HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, len(body), body))
	}
	ok, unavailable := httpResponse("200 OK"), httpResponse("503 Service Unavailable")
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		resp := ok
		if unhealthy.Load() {
			resp = unavailable
		}
		go answer(c, resp)
	}
}

// answer reads what the client sends first (an HTTP request, or nothing from
// a bare nc) so that closing does not reset the connection, then responds.
func answer(c net.Conn, resp []byte) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 4096)
	var got []byte
	for len(got) < 64<<10 {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil || strings.Contains(string(got), "\r\n\r\n") || strings.Contains(string(got), "\n\n") {
			break
		}
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write(resp)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = io.Copy(io.Discard, c)
	}
}

func serveUDP(c net.PacketConn, body []byte) {
	buf := make([]byte, 65536)
	for {
		_, from, err := c.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		_, _ = c.WriteTo(body, from)
	}
}

// probe runs one readiness probe from inside r.Netns, as kubelet's prober
// does from the node: a TCP connect, or an HTTP GET whose status must be
// 200-399. The error says why the probe failed.
func probe(r request) error {
	timeout := time.Duration(r.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = time.Second
	}
	conn, err := dialIn(r.Netns, r.Target, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if r.Kind != "http" {
		return nil
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	path := r.Path
	if path == "" {
		path = "/"
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: kube-probe/npl\r\nAccept: */*\r\nConnection: close\r\n\r\n", path, r.Target); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
	}
	return nil
}

// dialIn opens a TCP connection whose socket is created inside the namespace
// at nsPath.
func dialIn(nsPath, target string, timeout time.Duration) (net.Conn, error) {
	return inNetns(nsPath, func() (net.Conn, error) { return net.DialTimeout("tcp", target, timeout) })
}
