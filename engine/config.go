package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/schemas"
)

// Gates are the decision points a policy set must provide, each as
// data.shipgate.gates.<gate>.decision.
var Gates = []string{"deploy", "verify", "complete", "flag"}

// CheckGate returns nil when name is one of Gates, else an error wrapping
// ErrUnknownGate that lists them, for a caller to refuse a request before
// it reads or records anything.
func CheckGate(name string) error {
	if slices.Contains(Gates, name) {
		return nil
	}
	return unknownGate(name)
}

func unknownGate(name string) error {
	return fmt.Errorf("%w %q: want one of %s", ErrUnknownGate, name, strings.Join(Gates, ", "))
}

// config is the part of data.shipgate.config that the engine itself reads:
// what it needs to decide which evidence counts before any Rego runs.
type config struct {
	Freshness map[string]string `json:"freshness"`
	Gates     map[string]struct {
		Required []string `json:"required"`
	} `json:"gates"`
	Freeze struct {
		Calendar []calendarEntry `json:"calendar"`
	} `json:"freeze"`
	Postmortem struct {
		DueDays *float64 `json:"due_days"`
	} `json:"postmortem"`
	Verification struct {
		Deadline string `json:"deadline"`
	} `json:"verification"`
	// ClockSkew tolerates evidence stamped slightly ahead of the gate's clock.
	ClockSkew string `json:"clock_skew"`
	Services  map[string]struct {
		DeployCommands [][]string     `json:"deploy_commands"`
		Signing        *signingConfig `json:"signing"`
	} `json:"services"`
	// Signing decides which documents count by who signed them (trust.go).
	Signing *signingConfig `json:"signing"`
}

// settings is config parsed and checked once at load.
type settings struct {
	freshness map[string]time.Duration
	required  map[string][]string
	calendar  *calendar
	skew      time.Duration
	due       time.Duration
	// deadline is how long after a deploy finished its verify gate may
	// allow it before the deploy counts as unverified.
	deadline time.Duration
	// deploy holds services.<svc>.deploy_commands: a rollback restarts with
	// the approved command, as a deploy would.
	deploy map[string][][]string
	// trust is signing; serviceTrust holds services.<svc>.signing, which
	// replaces it for that service.
	trust        *trust
	serviceTrust map[string]*trust
}

func parseSettings(raw any) (*settings, error) {
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("data shipgate.config: %w", err)
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil {
		// The data schema refuses such data first, unless it is recorded
		// data loaded without the schema.
		return nil, fmt.Errorf("data shipgate.config: %w", err)
	}
	s := &settings{freshness: map[string]time.Duration{}, required: map[string][]string{}, skew: 5 * time.Minute, due: 5 * 24 * time.Hour,
		deadline: DefaultVerificationDeadline}
	if d := c.Postmortem.DueDays; d != nil {
		if *d <= 0 {
			return nil, issue(fmt.Sprintf("want a positive number of days, got %v", *d), "postmortem", "due_days")
		}
		s.due = time.Duration(*d * float64(24*time.Hour))
	}
	for kind, v := range c.Freshness {
		if !slices.Contains(schemas.Kinds, kind) {
			return nil, issue(fmt.Sprintf("unknown evidence kind (want one of %s)", strings.Join(schemas.Kinds, ", ")), "freshness", kind)
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, issue(fmt.Sprintf("want a positive Go duration such as 10m, got %q", v), "freshness", kind)
		}
		s.freshness[kind] = d
	}
	for gate, g := range c.Gates {
		for i, kind := range g.Required {
			if !slices.Contains(schemas.Kinds, kind) {
				return nil, issue(fmt.Sprintf("unknown evidence kind %q", kind), "gates", gate, "required", strconv.Itoa(i))
			}
		}
		s.required[gate] = g.Required
	}
	if v := c.Verification.Deadline; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("data shipgate.config.verification.deadline: want a positive Go duration such as 30m, got %q", v)
		}
		s.deadline = d
	}
	if c.ClockSkew != "" {
		d, err := time.ParseDuration(c.ClockSkew)
		if err != nil || d < 0 {
			return nil, issue(fmt.Sprintf("want a Go duration such as 5m, got %q", c.ClockSkew), "clock_skew")
		}
		s.skew = d
	}
	cal, err := newCalendar(c.Freeze.Calendar)
	if err != nil {
		return nil, err
	}
	s.calendar = cal
	s.deploy = map[string][][]string{}
	for svc, v := range c.Services {
		s.deploy[svc] = v.DeployCommands
	}
	if s.trust, err = parseTrust("signing", c.Signing); err != nil {
		return nil, err
	}
	s.serviceTrust = map[string]*trust{}
	for svc, v := range c.Services {
		if v.Signing == nil {
			continue
		}
		if s.serviceTrust[svc], err = parseTrust("services."+svc+".signing", serviceSigning(c.Signing, v.Signing)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// DeployCommands returns the approved deploy commands of service (data
// services.<service>.deploy_commands), each an exact argv; none when the
// policy data names none.
func (e *Engine) DeployCommands(service string) [][]string {
	return slices.Clone(e.settings.deploy[service])
}

// issue is a problem in data that the schema accepts, at path under
// data.shipgate.config: Load places it in the file that gave the value.
func issue(msg string, path ...string) *policyset.Issue {
	return &policyset.Issue{Path: path, Message: msg}
}
