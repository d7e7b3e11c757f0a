package rollback

import (
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/localizevideos/shipgate/runner"
)

// Evidence returns the Rollback evidence document of res for the release
// env names (subject.commit is the release's commit, so the document counts
// for it), collected when the rollback finished.
func Evidence(env runner.Envelope, res Result) ([]byte, error) {
	switch {
	case env.ReleaseID == "" || env.Service == "" || env.Environment == "":
		return nil, errors.New("rollback evidence: release id, service and environment are required")
	case env.Commit == "" || env.Repository == "" || env.Actor == "":
		return nil, errors.New("rollback evidence: subject repository, commit and collector actor are required")
	}
	p := res.Plan
	d := data{Strategy: p.Strategy, Status: res.Status, Trigger: p.Trigger, FromCommit: p.FromCommit,
		StartedAt: stamp(res.StartedAt), FinishedAt: stamp(res.FinishedAt), DurationSeconds: seconds(res.Duration),
		Steps: []step{}, Artifact: res.Artifact, Reason: p.Reason}
	if d.FromCommit == "" {
		d.FromCommit = env.Commit
	}
	switch p.Strategy {
	case Fast:
		d.ToCommit, d.ToRelease = p.Target.Commit, p.Target.ReleaseID
	case Emergency:
		d.Flag = p.Flag
	}
	for _, n := range res.Notes {
		if d.Reason != "" {
			d.Reason += "; "
		}
		d.Reason += n
	}
	if res.Err != nil {
		if d.Reason != "" {
			d.Reason += "; "
		}
		d.Reason += "failed: " + res.Err.Error()
	}
	for _, s := range res.Steps {
		tail := s.Result.Tail
		if tail == nil {
			tail = []string{}
		}
		d.Steps = append(d.Steps, step{Name: s.Name, Command: s.Command, File: s.File, ExitCode: s.Result.ExitCode,
			DurationSeconds: seconds(s.Result.Duration),
			Output:          output{StdoutSHA256: s.Result.StdoutSHA256, StderrSHA256: s.Result.StderrSHA256, Tail: tail}})
	}
	return json.Marshal(map[string]any{
		"apiVersion":  runner.APIVersion,
		"kind":        "Rollback",
		"release":     map[string]string{"id": env.ReleaseID, "service": env.Service, "environment": env.Environment},
		"subject":     map[string]string{"repository": env.Repository, "commit": env.Commit},
		"collectedAt": stamp(res.FinishedAt),
		"collector":   collector{Name: "shipgate", Version: env.Version, Host: env.Host, Actor: env.Actor},
		"data":        d,
	})
}

type collector struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Host    string `json:"host,omitempty"`
	Actor   string `json:"actor"`
}

type data struct {
	Strategy        string           `json:"strategy"`
	Status          string           `json:"status"`
	Trigger         string           `json:"trigger,omitempty"`
	FromCommit      string           `json:"fromCommit"`
	ToCommit        string           `json:"toCommit,omitempty"`
	ToRelease       string           `json:"toRelease,omitempty"`
	Flag            string           `json:"flag,omitempty"`
	StartedAt       string           `json:"startedAt"`
	FinishedAt      string           `json:"finishedAt"`
	DurationSeconds float64          `json:"durationSeconds"`
	Steps           []step           `json:"steps"`
	Artifact        *runner.Artifact `json:"artifact,omitempty"`
	Reason          string           `json:"reason,omitempty"`
}

type step struct {
	Name            string   `json:"name"`
	Command         []string `json:"command,omitempty"`
	File            string   `json:"file,omitempty"`
	ExitCode        int      `json:"exitCode"`
	DurationSeconds float64  `json:"durationSeconds"`
	Output          output   `json:"output"`
}

type output struct {
	StdoutSHA256 string   `json:"stdoutSha256,omitempty"`
	StderrSHA256 string   `json:"stderrSha256,omitempty"`
	Tail         []string `json:"tail"`
}

func stamp(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano) }

func seconds(d time.Duration) float64 { return math.Max(0, math.Round(d.Seconds()*1000)/1000) }
