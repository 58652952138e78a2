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
//
// Reply: {"req":1,"ok":true} or {"req":1,"ok":false,"error":"..."}.
// "open" is all-or-nothing per id and replaces the id's previous listeners.
// Each port may carry "netns" to open it in another namespace (hostPort),
// "hostIP" to listen on one address only, and "families" (["IPv4","IPv6"]) to
// listen on the wildcard address of each family (default IPv4 only; IPv6
// sockets are v6-only, so a pod answers on each of its addresses).
// The process exits when stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
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
	Req   int64      `json:"req"`
	Op    string     `json:"op"`
	ID    string     `json:"id"`
	Netns string     `json:"netns"`
	Name  string     `json:"name"`
	Ports []portSpec `json:"ports"`
}

type reply struct {
	Req   int64  `json:"req"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

type server struct {
	mu   sync.Mutex
	pods map[string][]io.Closer
}

func main() {
	s := &server{pods: map[string][]io.Closer{}}
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
	}
	return fmt.Errorf("unknown op %q", r.Op)
}

func (s *server) close(id string) {
	s.mu.Lock()
	ls := s.pods[id]
	delete(s.pods, id)
	s.mu.Unlock()
	for _, l := range ls {
		_ = l.Close()
	}
}

func (s *server) open(r request) error {
	s.close(r.ID)
	var opened []io.Closer
	body := []byte(r.Name + "\n")
	for _, p := range r.Ports {
		ns := r.Netns
		if p.Netns != "" {
			ns = p.Netns
		}
		c, err := listenIn(ns, p, body)
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

// listenIn creates the socket inside the namespace at nsPath (setns on a
// locked thread), then serves it from ordinary goroutines.
func listenIn(nsPath string, p portSpec, body []byte) (io.Closer, error) {
	type result struct {
		c   io.Closer
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
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer orig.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			restored = true
			done <- result{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			restored = true
			done <- result{nil, err}
			return
		}
		c, lerr := listen(p, body)
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err == nil {
			restored = true
		}
		done <- result{c, lerr}
	}()
	res := <-done
	return res.c, res.err
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

func listen(p portSpec, body []byte) (io.Closer, error) {
	suffixes, err := networkSuffixes(p)
	if err != nil {
		return nil, err
	}
	var opened multiCloser
	for _, v := range suffixes {
		c, err := listenOne(p, v, body)
		if err != nil {
			_ = opened.Close()
			return nil, err
		}
		opened = append(opened, c)
	}
	return opened, nil
}

func listenOne(p portSpec, v string, body []byte) (io.Closer, error) {
	addr := net.JoinHostPort(p.HostIP, fmt.Sprint(p.Port))
	switch strings.ToUpper(p.Protocol) {
	case "", "TCP":
		l, err := net.Listen("tcp"+v, addr)
		if err != nil {
			return nil, err
		}
		go serveTCP(l, body)
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

func serveTCP(l net.Listener, body []byte) {
	resp := []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body))
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
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
