package policyset

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/localizevideos/shipgate/internal/inputfile"
)

// Format formats every .rego file under dir with OPA's formatter (what
// opa fmt does) and returns the files that change, in walk order. With
// check nothing is written; otherwise each changed file is rewritten in
// place, keeping its permissions.
func Format(dir string, check bool) ([]string, error) {
	var changed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := inputfile.Read(p, MaxDataBytes)
		if err != nil {
			return err
		}
		out, err := format.SourceWithOpts(p, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			return fmt.Errorf("format %s: %w", p, err)
		}
		if string(out) == string(src) {
			return nil
		}
		changed = append(changed, p)
		if check {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(p, out, info.Mode().Perm())
	})
	return changed, err
}
