package project

import "github.com/localizevideos/shipgate/artifact"

// Artifacts are the artifact store a command chose (--artifact-store)
// and, for a build, the build output to keep in it (--artifact).
type Artifacts struct {
	Paths []string
	Dir   string
	// Off: keep nothing (run build --no-artifact); rebuild instead of
	// restoring (rollback --rebuild).
	Off      bool
	Settings *Settings
}

// Store opens the artifact store the flags and shipgate.yaml name
// (Settings.ArtifactStore).
func (o *Artifacts) Store() (*artifact.Store, error) { return o.Settings.ArtifactStore(o.Dir) }

// OutputPaths are the build output whose tree digest is recorded: Paths
// (--artifact), else the config's artifacts.paths, with or without Off
// (which only keeps the archive out of the store).
func (o *Artifacts) OutputPaths() ([]string, error) {
	if len(o.Paths) > 0 {
		return artifact.CleanPaths(o.Paths)
	}
	return o.Settings.OutputPaths()
}
