package runner

import (
	"encoding/json"
	"errors"
	"math"
	"time"
)

// APIVersion is the evidence apiVersion the builders write.
const APIVersion = "shipgate.dev/v1"

// Build and Deploy statuses.
const (
	BuildPassed     = "passed"
	BuildFailed     = "failed"
	DeployRequested = "requested"
	DeploySucceeded = "succeeded"
	DeployFailed    = "failed"
)

// Deploy triggers.
const (
	TriggerPipeline    = "pipeline"
	TriggerShipgateRun = "shipgate-run"
)

// Envelope is what every document a run records shares: the release it
// belongs to, the commit it is about, and who collected it where.
type Envelope struct {
	ReleaseID, Service, Environment string
	// Repository and Commit are the checkout's: subject.repository and
	// subject.commit.
	Repository, Commit string
	// Version, Host and Actor fill collector (name is always "shipgate").
	Version, Host, Actor string
}

// Source is the state of the checkout a build or a deploy ran in.
type Source struct {
	Branch      string `json:"branch"`
	OnMain      bool   `json:"onMain"`
	Clean       bool   `json:"clean"`
	CommitKnown bool   `json:"commitKnown"`
}

// DeployRequest is a deploy before it runs: what the deploy gate judges.
type DeployRequest struct {
	Command []string
	// Actor is the deployer.
	Actor string
	// Trigger is TriggerPipeline or TriggerShipgateRun (see Trigger).
	Trigger string
	Source  Source
	// Artifact is the build output found in the checkout when the deploy
	// was requested (its tree digest and paths); nil when no build output
	// is configured or it could not be read.
	Artifact *Artifact
	Host     string
	CI       CI
}

// Trigger is TriggerPipeline in CI and TriggerShipgateRun outside it.
func Trigger(ci CI) string {
	if ci.InCI() {
		return TriggerPipeline
	}
	return TriggerShipgateRun
}

// Build returns the Build evidence document of res, collected when res
// finished: passed when the command exited 0.
func Build(env Envelope, res Result, ci CI) ([]byte, error) {
	return BuildArtifact(env, res, ci, nil, nil)
}

// Artifact is build output (package artifact): data.artifact of a Build
// (what it produced, and the archive it was kept as), of a Deploy (what
// was in the checkout when it was requested) and of a Rollback (what the
// rollback left there).
type Artifact struct {
	Name string `json:"name,omitempty"`
	// Digest names the archive kept in the artifact store; "" when none
	// was kept.
	Digest string `json:"digest,omitempty"`
	// Tree is the tree digest of the build output (artifact.Tree).
	Tree      string   `json:"tree,omitempty"`
	Paths     []string `json:"paths,omitempty"`
	SizeBytes int64    `json:"sizeBytes,omitempty"`
}

// BuildArtifact is Build with the state of the checkout the build ran in
// and the build output it produced (and kept); nil for unknown or none.
func BuildArtifact(env Envelope, res Result, ci CI, src *Source, art *Artifact) ([]byte, error) {
	if err := check(env); err != nil {
		return nil, err
	}
	status := BuildFailed
	if res.ExitCode == 0 && res.Err == nil {
		status = BuildPassed
	}
	return marshal(env, "Build", res.FinishedAt, buildData{
		Command: res.Argv, Status: status, ExitCode: res.ExitCode,
		StartedAt: timestamp(res.StartedAt), FinishedAt: timestamp(res.FinishedAt), DurationSeconds: seconds(res.Duration),
		Source: src, Artifact: art, CI: ci, Output: outputOf(res),
	})
}

// Deploy returns a Deploy evidence document: with res nil, the request
// (status requested, collected at the time at, no outcome fields); with
// res, its outcome (succeeded when the command exited 0), collected when it
// finished.
func Deploy(env Envelope, req DeployRequest, at time.Time, res *Result) ([]byte, error) {
	if err := check(env); err != nil {
		return nil, err
	}
	d := deployData{Command: req.Command, Status: DeployRequested, Actor: req.Actor, Trigger: req.Trigger,
		Source: req.Source, Artifact: req.Artifact, Host: req.Host, CI: req.CI}
	if res != nil {
		d.Status = DeployFailed
		if res.ExitCode == 0 && res.Err == nil {
			d.Status = DeploySucceeded
		}
		code, dur := res.ExitCode, seconds(res.Duration)
		d.StartedAt, d.FinishedAt = timestamp(res.StartedAt), timestamp(res.FinishedAt)
		out := outputOf(*res)
		d.DurationSeconds, d.ExitCode, d.Output = &dur, &code, &out
		at = res.FinishedAt
	}
	return marshal(env, "Deploy", at, d)
}

func check(env Envelope) error {
	switch {
	case env.ReleaseID == "" || env.Service == "" || env.Environment == "":
		return errors.New("evidence: release id, service and environment are required")
	case env.Commit == "" || env.Repository == "":
		return errors.New("evidence: subject repository and commit are required")
	case env.Actor == "":
		return errors.New("evidence: collector actor is required")
	}
	return nil
}

type document struct {
	APIVersion  string    `json:"apiVersion"`
	Kind        string    `json:"kind"`
	Release     release   `json:"release"`
	Subject     subject   `json:"subject"`
	CollectedAt string    `json:"collectedAt"`
	Collector   collector `json:"collector"`
	Data        any       `json:"data"`
}

type release struct {
	ID          string `json:"id"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
}

type subject struct {
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
}

type collector struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Host    string `json:"host,omitempty"`
	Actor   string `json:"actor"`
}

type output struct {
	StdoutSHA256 string   `json:"stdoutSha256,omitempty"`
	StderrSHA256 string   `json:"stderrSha256,omitempty"`
	Tail         []string `json:"tail"`
}

type buildData struct {
	Command         []string  `json:"command"`
	Status          string    `json:"status"`
	ExitCode        int       `json:"exitCode"`
	StartedAt       string    `json:"startedAt"`
	FinishedAt      string    `json:"finishedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	Source          *Source   `json:"source,omitempty"`
	Artifact        *Artifact `json:"artifact,omitempty"`
	CI              CI        `json:"ci"`
	Output          output    `json:"output"`
}

type deployData struct {
	Command         []string  `json:"command"`
	Status          string    `json:"status"`
	Actor           string    `json:"actor"`
	Trigger         string    `json:"trigger"`
	Source          Source    `json:"source"`
	Artifact        *Artifact `json:"artifact,omitempty"`
	Host            string    `json:"host,omitempty"`
	StartedAt       string    `json:"startedAt,omitempty"`
	FinishedAt      string    `json:"finishedAt,omitempty"`
	DurationSeconds *float64  `json:"durationSeconds,omitempty"`
	ExitCode        *int      `json:"exitCode,omitempty"`
	CI              CI        `json:"ci"`
	Output          *output   `json:"output,omitempty"`
}

// Document returns the JSON of an evidence document of kind with the
// envelope env, collected at the time at, and data as its data: for the
// kinds other commands collect (IncidentStatus, Verification). The caller
// validates it.
func Document(env Envelope, kind string, at time.Time, data any) ([]byte, error) {
	if err := check(env); err != nil {
		return nil, err
	}
	return marshal(env, kind, at, data)
}

func marshal(env Envelope, kind string, at time.Time, data any) ([]byte, error) {
	return json.Marshal(document{
		APIVersion: APIVersion, Kind: kind,
		Release:     release{ID: env.ReleaseID, Service: env.Service, Environment: env.Environment},
		Subject:     subject{Repository: env.Repository, Commit: env.Commit},
		CollectedAt: timestamp(at),
		Collector:   collector{Name: "shipgate", Version: env.Version, Host: env.Host, Actor: env.Actor},
		Data:        data,
	})
}

func outputOf(res Result) output {
	tail := res.Tail
	if tail == nil {
		tail = []string{}
	}
	return output{StdoutSHA256: res.StdoutSHA256, StderrSHA256: res.StderrSHA256, Tail: tail}
}

// timestamp is RFC 3339 in UTC to the millisecond.
func timestamp(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return math.Max(0, math.Round(d.Seconds()*1000)/1000) }
