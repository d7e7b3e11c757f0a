package policyset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/internal/inputfile"
)

// Limits of the files a Choice reads from paths a user gives: far above
// what such a file holds, they keep a mistaken path from being read whole.
const (
	MaxKeyBytes  = 64 << 10 // a PEM key
	MaxDataBytes = 4 << 20  // a policy data file
)

// Choice is the policy set a user chose on the command line: a directory
// (or the embedded set), with data files replacing or laid over its own
// data, or a bundle file verified with a key.
type Choice struct {
	// Dir is the policy directory; "" is Embedded.
	Dir      string
	Embedded fs.FS
	// DataFiles name the data files in the order they apply. A plain name
	// is the whole data (only the first may be one); +NAME is an overlay,
	// merged over what comes before it (MergeData), the first over the
	// policy set's own data.
	DataFiles []string
	// Bundle is an OPA bundle file to read instead of a directory;
	// VerifyKey the PEM public key file it must be signed with.
	Bundle    string
	VerifyKey string
}

// IsOverlay reports whether a data file name is an overlay (+NAME).
func IsOverlay(name string) bool { return strings.HasPrefix(name, "+") }

// Policies is the chosen policy directory, or the embedded set.
func (c Choice) Policies() fs.FS {
	if c.Dir == "" {
		return c.Embedded
	}
	return os.DirFS(c.Dir)
}

// Describe names the policy set for messages.
func (c Choice) Describe() string {
	switch {
	case c.Bundle != "":
		return "bundle " + c.Bundle
	case c.Dir != "":
		return c.Dir
	}
	return "embedded policies"
}

// Data is the policy data the data files make, nil when there are none
// (the policy set's own data applies), and the files as read, for the
// engine to name the file and line of an error in them.
func (c Choice) Data() (map[string]any, []DataFile, error) {
	files := c.DataFiles
	if len(files) == 0 {
		return nil, nil, nil
	}
	var out map[string]any
	read := make([]DataFile, 0, len(files))
	for i, f := range files {
		name, overlay := strings.CutPrefix(f, "+")
		if i > 0 && !overlay {
			return nil, nil, fmt.Errorf("--data %s after --data %s: a plain data file replaces the whole policy data, so only the first --data may be one; write --data +%s to overlay it", f, files[0], f)
		}
		if i == 0 && overlay {
			base, _, err := ReadOwnData(c.Policies())
			if err != nil {
				return nil, nil, fmt.Errorf("--data %s overlays the data of %s: %w", f, c.Describe(), err)
			}
			out = base
		}
		b, err := inputfile.Read(name, MaxDataBytes)
		if err != nil {
			return nil, nil, fmt.Errorf("read data: %w", err)
		}
		m, err := ReadData(name, b)
		if err != nil {
			return nil, nil, err
		}
		read = append(read, DataFile{Name: name, Raw: b, Overlay: overlay})
		if overlay {
			out = MergeData(out, m)
		} else {
			out = m
		}
	}
	return out, read, nil
}

// ReadOwnData returns the data.shipgate.config of a policy tree (the
// first of DataPaths there) and the file it came from.
func ReadOwnData(fsys fs.FS) (map[string]any, string, error) {
	own, err := ownData(fsys)
	if err != nil {
		return nil, "", err
	}
	if own == nil {
		return nil, "", fmt.Errorf("read policy data: none of %s in the policy tree", strings.Join(DataPaths, ", "))
	}
	m, err := ReadData(own.Name, own.Raw)
	return m, own.Name, err
}

// ReadVerifyKey reads the VerifyKey file, nil when none is given.
func (c Choice) ReadVerifyKey() ([]byte, error) {
	if c.VerifyKey == "" {
		return nil, nil
	}
	key, err := inputfile.Read(c.VerifyKey, MaxKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("read verification key: %w", err)
	}
	return key, nil
}

// OpenBundle reads the chosen bundle, verified with VerifyKey. The bundle
// carries its own data, so neither a directory nor data files may be
// chosen with it.
func (c Choice) OpenBundle() (*bundle.Bundle, error) {
	switch {
	case c.Bundle == "":
		return nil, errors.New("--verify-key needs --bundle")
	case c.Dir != "":
		return nil, errors.New("--bundle and a policy directory: give one")
	case len(c.DataFiles) > 0:
		return nil, errors.New("--data cannot replace a bundle's data: build the bundle with it (shipgate policy bundle --data)")
	}
	key, err := c.ReadVerifyKey()
	if err != nil {
		return nil, err
	}
	return ReadBundleFile(c.Bundle, key)
}

// ReadBundleFile reads the OPA bundle file at path (ReadBundle), verified
// with key when given.
func ReadBundleFile(path string, key []byte) (*bundle.Bundle, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	defer f.Close()
	b, err := ReadBundle(f, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
