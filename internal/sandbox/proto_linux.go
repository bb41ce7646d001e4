package sandbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The caller and its supervisor talk over a unix stream socket pair. Each
// message is a 4-byte big-endian length and a JSON body; the fds a start
// request hands over ride as SCM_RIGHTS on the same sendmsg as the length,
// which is where the reader collects them.

// Message operations.
const (
	opSetup     = "setup"   // caller: build the sandbox from Spec
	opReady     = "ready"   // supervisor: the sandbox is up (or Err says why not)
	opStart     = "start"   // caller: start a process
	opStarted   = "started" // supervisor: reply to start
	opSignal    = "signal"  // caller: signal a process's group
	opSignald   = "signaled"
	opExit      = "exit"  // supervisor: a process ended
	opClose     = "close" // caller: kill everything and exit
	opGroup     = "group" // caller: make a group from Spec
	opGrouped   = "grouped"
	opUngroup   = "ungroup" // caller: a group starts nothing more
	opUngrouped = "ungrouped"
)

// Bits of message.Fds: which standard streams came with a start request, in
// this order.
const (
	fdStdin = 1 << iota
	fdStdout
	fdStderr
)

// maxMessage bounds a message body; argv and environment are far smaller.
const maxMessage = 64 << 20

type wireMount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	// InMemory says Source is relative to the sandbox's memory directory
	// (Spec.Memory), not a host path.
	InMemory bool `json:"inMemory,omitempty"`
}

// protocol is the version of these messages. A supervisor started from
// another program (Spec.Supervisor) may come from another build: it
// refuses a set-up of another version. Change it whenever a message's
// fields or meaning change. (A variable only so that tests can play a
// supervisor of another build.)
var protocol = 2

type wireSpec struct {
	// Protocol is the caller's protocol version.
	Protocol int         `json:"protocol"`
	Mounts   []wireMount `json:"mounts,omitempty"`
	Hostname string      `json:"hostname,omitempty"`
	// Memory is where the sandbox's memory directory is mounted.
	Memory string `json:"memory,omitempty"`
	// UserNS says the supervisor is in a user namespace that maps only
	// the caller's ids, where supplementary groups cannot be set.
	UserNS bool `json:"userNS,omitempty"`
}

// message is every message in both directions; Op says which fields count.
type message struct {
	Op string `json:"op"`
	// ID pairs a request with its reply.
	ID uint64 `json:"id,omitempty"`

	Spec *wireSpec `json:"spec,omitempty"`

	Path     string   `json:"path,omitempty"`
	Args     []string `json:"args,omitempty"`
	Env      []string `json:"env,omitempty"`
	Dir      string   `json:"dir,omitempty"`
	MkdirDir bool     `json:"mkdirDir,omitempty"`
	UID      *int     `json:"uid,omitempty"`
	GID      *int     `json:"gid,omitempty"`
	Fds      int      `json:"fds,omitempty"`
	// Mounts are the process's own mounts. Their sources are host paths,
	// which the supervisor finds through its mirror of the host's root.
	Mounts []wireMount `json:"mounts,omitempty"`
	// Hostname is the process's own host name, in a UTS namespace of its
	// own.
	Hostname string `json:"hostname,omitempty"`
	// Exclusive makes the process's mounts the group's while it runs.
	Exclusive bool `json:"exclusive,omitempty"`
	// After names a running exclusive process of the same group: the new
	// one, exclusive too, starts the moment that one has exited 0, and
	// not at all otherwise. The reply comes then.
	After uint64 `json:"after,omitempty"`
	// ExitFile is a file in the memory directory the supervisor writes
	// the process's exit code to when it ends.
	ExitFile string `json:"exitFile,omitempty"`
	// NotStarted marks the reply to a start request whose After did not
	// exit 0, or had ended already.
	NotStarted bool `json:"notStarted,omitempty"`

	// Group names a group the supervisor made: a start request with one
	// starts the process in it.
	Group uint64 `json:"group,omitempty"`

	// Proc names a process the supervisor started.
	Proc   uint64 `json:"proc,omitempty"`
	Signal int    `json:"signal,omitempty"`

	// Err and Errno carry a failure; Unsupported marks one that means
	// namespaces are not available.
	Err         string `json:"err,omitempty"`
	Errno       int    `json:"errno,omitempty"`
	Unsupported bool   `json:"unsupported,omitempty"`

	Code int `json:"code,omitempty"`
}

// setErr records err in m, keeping its errno so that the other side can
// still match it with errors.Is.
func (m *message) setErr(err error) {
	m.Err = err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		m.Errno = int(errno)
	}
}

// remoteError is an error that happened on the other side of the socket.
type remoteError struct {
	msg   string
	errno syscall.Errno
}

func (e *remoteError) Error() string { return e.msg }

func (e *remoteError) Unwrap() error {
	if e.errno == 0 {
		return nil
	}
	return e.errno
}

// error returns the failure m carries, or nil.
func (m *message) error() error {
	if m.Err == "" {
		return nil
	}
	return &remoteError{msg: m.Err, errno: syscall.Errno(m.Errno)}
}

// conn is one end of the socket pair. Any goroutine may send; one reads.
type conn struct {
	c   *net.UnixConn
	wmu sync.Mutex
}

// newConn takes over f, a connected unix stream socket.
func newConn(f *os.File) (*conn, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("socket: %T is not a unix socket", c)
	}
	return &conn{c: uc}, nil
}

// send writes m, passing fds (which the caller still owns) along with it.
func (c *conn) send(m *message, fds ...int) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Op, err)
	}
	frame := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(frame, uint32(len(body)))
	copy(frame[4:], body)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, _, err := c.c.WriteMsgUnix(frame, oob, nil)
	if err == nil && n < len(frame) {
		_, err = c.c.Write(frame[n:])
	}
	if err != nil {
		return fmt.Errorf("send %s message: %w", m.Op, err)
	}
	return nil
}

// recv reads the next message and the fds that came with it. It returns
// io.EOF when the other side has closed.
func (c *conn) recv() (*message, []int, error) {
	var hdr [4]byte
	oob := make([]byte, unix.CmsgSpace(8*4))
	n, oobn, flags, _, err := c.c.ReadMsgUnix(hdr[:], oob)
	files, ferr := parseRights(oob[:oobn])
	if err == nil {
		err = ferr
	}
	if err == nil && flags&unix.MSG_CTRUNC != 0 {
		err = errors.New("too many fds in a message")
	}
	if err == nil && n == 0 {
		err = io.EOF
	}
	if err == nil && n < len(hdr) {
		_, err = io.ReadFull(c.c, hdr[n:])
	}
	if err != nil {
		closeAll(files)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
			err = io.EOF
		}
		return nil, nil, err
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > maxMessage {
		closeAll(files)
		return nil, nil, fmt.Errorf("message of %d bytes is too large", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(c.c, body); err != nil {
		closeAll(files)
		return nil, nil, fmt.Errorf("read message: %w", err)
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		closeAll(files)
		return nil, nil, fmt.Errorf("decode message: %w", err)
	}
	return &m, files, nil
}

func (c *conn) close() error { return c.c.Close() }

// parseRights returns the fds passed in oob. They are close-on-exec:
// net.UnixConn receives with MSG_CMSG_CLOEXEC.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for _, cm := range msgs {
		got, err := unix.ParseUnixRights(&cm)
		if err != nil {
			continue
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
