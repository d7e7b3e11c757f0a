package options

import (
	"crypto/ed25519"

	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/ledger"
)

// CheckpointSigner reads the checkpoint key: flag (--key), the config's,
// or the default.
func (g *Globals) CheckpointSigner(flag string) (ed25519.PrivateKey, error) {
	path, err := g.checkpointKeyPath(flag, true)
	if err != nil {
		return nil, err
	}
	return project.CheckpointSigner(path)
}

// CheckpointKey reads the checkpoint public key: flag (--public-key), the
// config's, or the default.
func (g *Globals) CheckpointKey(flag string) (ed25519.PublicKey, error) {
	path, err := g.checkpointKeyPath(flag, false)
	if err != nil {
		return nil, err
	}
	return project.CheckpointKeyAt(path)
}

// ReadCheckpoint reads the signed checkpoint at path (--checkpoint) and
// checks it with the public key of publicKey (--public-key, CheckpointKey);
// no path is no checkpoint.
func (g *Globals) ReadCheckpoint(path, publicKey string) (*ledger.Checkpoint, ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil, nil
	}
	pub, err := g.CheckpointKey(publicKey)
	if err != nil {
		return nil, nil, err
	}
	cp, err := project.ReadCheckpoint(path, pub)
	return cp, pub, err
}

func (g *Globals) checkpointKeyPath(flag string, private bool) (string, error) {
	if flag != "" {
		return flag, nil
	}
	cfg, err := g.Config()
	if err != nil {
		return "", err
	}
	return cfg.CheckpointKeyPath(flag, private), nil
}
