package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// ErrNoKey means DialSSH had no key to offer the server: SSHConfig has no
// KeyFiles, and the agent is not used, cannot be reached or holds no key.
// The error says which; callers add how their user gives a key.
var ErrNoKey = errors.New("no key to authenticate with")

// authMethods builds the single public-key method offered to the server.
// With KeyFiles only those keys are offered (an encrypted one through the
// agent when the agent holds it); otherwise, with UseAgent, the agent's keys.
// The returned func closes the agent connection once the handshake is over.
func authMethods(c SSHConfig) ([]ssh.AuthMethod, func(), error) {
	var ag agent.ExtendedAgent
	closeAgent := func() {}
	needAgent := c.UseAgent && len(c.KeyFiles) == 0
	var signers []ssh.Signer
	var encrypted []ssh.PublicKey
	var encryptedNames []string
	for _, f := range c.KeyFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, closeAgent, fmt.Errorf("transport: ssh key: %w", err)
		}
		s, err := ssh.ParsePrivateKey(pem)
		var pm *ssh.PassphraseMissingError
		switch {
		case err == nil:
			signers = append(signers, s)
		case errors.As(err, &pm):
			pub := pm.PublicKey
			if pub == nil {
				if b, err := os.ReadFile(f + ".pub"); err == nil {
					pub, _, _, _, _ = ssh.ParseAuthorizedKey(b)
				}
			}
			if pub == nil {
				return nil, closeAgent, fmt.Errorf("transport: ssh key %s is encrypted and its public key is unknown (add %s.pub)", f, f)
			}
			encrypted = append(encrypted, pub)
			encryptedNames = append(encryptedNames, f)
			needAgent = true
		default:
			return nil, closeAgent, fmt.Errorf("transport: ssh key %s: %w", f, err)
		}
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	var agentErr error // why the agent could not be reached
	if needAgent && sock != "" {
		nc, err := net.Dial("unix", sock)
		if err != nil && len(encrypted) > 0 {
			return nil, closeAgent, fmt.Errorf("transport: ssh agent: %w", err)
		}
		agentErr = err
		if err == nil {
			ag = agent.NewClient(nc)
			closeAgent = func() { nc.Close() }
		}
	}
	if ag != nil {
		agentSigners, err := ag.Signers()
		if err != nil {
			closeAgent()
			return nil, func() {}, fmt.Errorf("transport: ssh agent: %w", err)
		}
		if len(c.KeyFiles) == 0 {
			signers = append(signers, agentSigners...)
		}
		for i, pub := range encrypted {
			s := findSigner(agentSigners, pub)
			if s == nil {
				closeAgent()
				return nil, func() {}, fmt.Errorf("transport: ssh key %s is encrypted and not loaded in the agent", encryptedNames[i])
			}
			signers = append(signers, s)
		}
	} else if len(encrypted) > 0 {
		return nil, closeAgent, fmt.Errorf("transport: ssh key %s is encrypted and no agent is available (SSH_AUTH_SOCK)", encryptedNames[0])
	}
	if len(signers) == 0 {
		closeAgent()
		var why string
		switch {
		case !c.UseAgent:
			why = "no identity file, and the agent is not used"
		case sock == "":
			why = "no identity file, and no agent (SSH_AUTH_SOCK is not set)"
		case agentErr != nil:
			why = fmt.Sprintf("no identity file, and the agent at %s cannot be reached (%v)", sock, agentErr)
		default:
			why = fmt.Sprintf("no identity file, and the agent at %s holds no key", sock)
		}
		return nil, func() {}, fmt.Errorf("transport: ssh: %w: %s", ErrNoKey, why)
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, closeAgent, nil
}

func findSigner(signers []ssh.Signer, pub ssh.PublicKey) ssh.Signer {
	want := pub.Marshal()
	for _, s := range signers {
		if bytes.Equal(s.PublicKey().Marshal(), want) {
			return s
		}
	}
	return nil
}
