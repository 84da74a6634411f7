package lab

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshdReadyTimeout bounds the wait for a fresh sshd to accept TCP.
const sshdReadyTimeout = 30 * time.Second

// defaultSysctlConf is every host's initial /etc/sysctl.conf.
const defaultSysctlConf = "# /etc/sysctl.conf of a tend lab host\n"

// writeKey stores key in OpenSSH format at path (0600) and its public half
// at path.pub; it returns the public key line without comment.
func writeKey(path string, key any, comment string) (string, error) {
	blk, err := ssh.MarshalPrivateKey(key, comment)
	if err != nil {
		return "", err
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return "", err
	}
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		return "", err
	}
	return pub, os.WriteFile(path+".pub", []byte(pub+" "+comment+"\n"), 0o644)
}

// writeEd25519 generates an ed25519 key pair at path and path.pub.
func writeEd25519(path, comment string) (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	return writeKey(path, priv, comment)
}

// writeHostKeys generates the host's ed25519 and ECDSA keys.
func (h *Host) writeHostKeys() error {
	pub, err := writeEd25519(filepath.Join(h.dir, "ssh_host_ed25519_key"), "root@"+h.Name)
	if err != nil {
		return err
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	if _, err := writeKey(filepath.Join(h.dir, "ssh_host_ecdsa_key"), ec, "root@"+h.Name); err != nil {
		return err
	}
	h.mu.Lock()
	h.HostKeyPub = pub
	h.mu.Unlock()
	return nil
}

// quoteConf quotes a path for sshd_config.
func quoteConf(s string) string { return `"` + s + `"` }

// writeFiles creates the per-host directory: host keys, sshd_config, root's
// home with authorized_keys, and the host's sysctl.conf and passwd.
func (h *Host) writeFiles(clientPub string) error {
	home := filepath.Join(h.dir, "root")
	for _, d := range []string{h.dir, filepath.Join(home, ".ssh"), h.EtcDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if err := os.Chmod(h.EtcDir, 0o755); err != nil {
		return err
	}
	if err := h.writeHostKeys(); err != nil {
		return err
	}
	if err := h.newBootID(); err != nil { // reboot.go
		return err
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "authorized_keys"), []byte(clientPub+"\n"), 0o600); err != nil {
		return err
	}
	passwd, err := hostPasswd(home)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(h.EtcDir, "passwd"), passwd, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(h.EtcDir, "sysctl.conf"), []byte(defaultSysctlConf), 0o644); err != nil {
		return err
	}
	conf := strings.Join([]string{
		"ListenAddress " + net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)),
		"AddressFamily inet",
		"HostKey " + quoteConf(filepath.Join(h.dir, "ssh_host_ed25519_key")),
		"HostKey " + quoteConf(filepath.Join(h.dir, "ssh_host_ecdsa_key")),
		"PidFile " + quoteConf(filepath.Join(h.dir, "sshd.pid")),
		"PermitRootLogin prohibit-password",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"UseDNS no",
		"MaxStartups 200:30:400",
		"MaxSessions 50",
		"LogLevel ERROR",
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"AuthorizedKeysFile .ssh/authorized_keys",
		"Subsystem sftp /usr/lib/openssh/sftp-server",
	}, "\n") + "\n"
	return os.WriteFile(filepath.Join(h.dir, "sshd_config"), []byte(conf), 0o600)
}

// hostPasswd returns this machine's /etc/passwd with root's home replaced,
// so that sessions on the host never source this machine's root dotfiles.
func hostPasswd(home string) ([]byte, error) {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(string(b), "\n")
	for i, line := range lines {
		f := strings.Split(strings.TrimSuffix(line, "\n"), ":")
		if len(f) == 7 && f[0] == "root" {
			f[5] = home
			lines[i] = strings.Join(f, ":") + "\n"
		}
	}
	return []byte(strings.Join(lines, "")), nil
}

// enter returns argv prefixed so that it runs inside the host: through
// `ip netns exec`, or with WithOverlayEtc by joining the holder's network
// and mount namespaces.
func (h *Host) enter(argv []string) []string {
	var pre []string
	if h.holder != nil {
		pre = []string{h.lab.tools.nsenter, "-t", strconv.Itoa(h.holder.PID), "-m", "-n", "--"}
	} else {
		pre = []string{h.lab.tools.ip, "netns", "exec", h.NS}
	}
	return append(pre, argv...)
}

// startHolder mounts the overlay on /etc in a new mount namespace (made by
// `ip netns exec`, which also mounts the namespace's /sys) and keeps that
// namespace alive with a sleeping process.
func (h *Host) startHolder() error {
	work := filepath.Join(h.dir, "etc.work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return err
	}
	if strings.ContainsAny(h.dir, ",:") {
		return fmt.Errorf("overlay paths must not contain ',' or ':': %s", h.dir)
	}
	opts := "lowerdir=/etc,upperdir=" + h.EtcDir + ",workdir=" + work
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := newCmd(h.lab.tools.ip, "netns", "exec", h.NS, "/bin/sh", "-c",
		`mount -t overlay tend-lab-etc -o "$1" /etc && echo ready && exec sleep infinity`, "tend-lab-holder", opts)
	var errBuf strings.Builder
	cmd.Stdout, cmd.Stderr = w, &errBuf
	p, err := spawn(cmd)
	w.Close()
	if err != nil {
		return err
	}
	h.holder = p
	line, _ := bufio.NewReader(r).ReadString('\n')
	if line != "ready\n" {
		p.Stop()
		return fmt.Errorf("mount overlay on /etc: %s", strings.TrimSpace(errBuf.String()))
	}
	return nil
}

// startSSHD starts the host's sshd in the foreground (-D) and waits until
// its port accepts TCP.
func (h *Host) startSSHD(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sshd != nil && !h.sshd.Exited() {
		return errors.New("sshd already running")
	}
	p, err := spawnLogged(h.enter(h.withBootID([]string{h.lab.tools.sshd, "-D", "-e", "-f", filepath.Join(h.dir, "sshd_config")})),
		filepath.Join(h.dir, "sshd.log"))
	if err != nil {
		return err
	}
	h.sshd = p
	addr := net.JoinHostPort(h.Addr, strconv.Itoa(h.Port))
	ctx, cancel := context.WithTimeout(ctx, sshdReadyTimeout)
	defer cancel()
	var d net.Dialer
	for {
		if p.Exited() {
			return fmt.Errorf("sshd exited: %v: %s", p.waitErr, strings.TrimSpace(p.Output()))
		}
		dctx, dcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		c, err := d.DialContext(dctx, "tcp", addr)
		dcancel()
		if err == nil {
			// Exchange banners so that sshd does not log the probe as an error.
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "SSH-2.0-tend-lab-probe\r\n")
			banner, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(banner, "SSH-") {
				return nil
			}
			err = fmt.Errorf("no SSH banner: %q: %v", banner, rerr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sshd not accepting on %s: %w", addr, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// StopSSHD kills the host's sshd listener by PID and waits for it: new
// connections are refused, while established sessions live on (as when
// systemd stops ssh.service). See KillSessions and Blackhole.
func (h *Host) StopSSHD(t TB) {
	t.Helper()
	h.mu.Lock()
	p := h.sshd
	h.mu.Unlock()
	if p == nil {
		t.Fatalf("lab: %s: sshd was never started", h.Name)
	}
	p.Stop()
}

// StartSSHD starts the host's sshd again and waits until it accepts TCP.
func (h *Host) StartSSHD(t TB) {
	t.Helper()
	if err := h.startSSHD(context.Background()); err != nil {
		t.Fatalf("lab: %s: start sshd: %v", h.Name, err)
	}
}

// RegenerateHostKey gives the host new ed25519 and ECDSA host keys and
// restarts sshd, for "changed host key" tests. HostKeyPub is updated;
// the file KnownHosts is not (it keeps the old key, which is the point).
func (h *Host) RegenerateHostKey(t TB) {
	t.Helper()
	h.StopSSHD(t)
	if err := h.writeHostKeys(); err != nil {
		t.Fatalf("lab: %s: regenerate host key: %v", h.Name, err)
	}
	h.StartSSHD(t)
}

// KillSessions kills (SIGKILL) every process descending from the sshd
// listener: established SSH connections drop with everything they run,
// while the listener keeps accepting.
func (h *Host) KillSessions(t TB) {
	t.Helper()
	h.mu.Lock()
	p := h.sshd
	h.mu.Unlock()
	if p == nil || p.Exited() {
		t.Fatalf("lab: %s: sshd is not running", h.Name)
	}
	if err := killAndWait(descendants(p.PID), syscall.SIGKILL); err != nil {
		t.Fatalf("lab: %s: kill sessions: %v", h.Name, err)
	}
}

// SSHDPID returns the PID of the host's sshd listener, the ancestor of every
// session's processes (for tests that trace what runs on the host), or 0
// when it is not running.
func (h *Host) SSHDPID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sshd == nil || h.sshd.Exited() {
		return 0
	}
	return h.sshd.PID
}
