package project

import (
	"cmp"
	"context"
	"io"
	"time"

	"github.com/localizevideos/shipgate/sample"
)

// Sample is the sample release shipgate example writes to Dir: its id,
// and its service and environment (default: the config's, or
// sample.Default's); Force overwrites the files of an earlier sample.
type Sample struct {
	Dir         string
	Release     string
	Service     string
	Environment string
	Force       bool
	Settings    *Settings
}

// Write writes the sample's files (sample.Files), dated now, signed as the
// project signs them (SignSample) where a shipgate.yaml applies, unsigned
// outside a project; a key made on first use is reported on errOut. It
// returns the release it wrote, the names of its files and how they are
// signed.
func (o Sample) Write(ctx context.Context, now time.Time, errOut io.Writer) (sample.Release, []string, string, error) {
	cfg, err := o.Settings.Config()
	if err != nil {
		return sample.Release{}, nil, "", err
	}
	r := sample.Default
	r.ID = o.Release
	r.Service = cmp.Or(o.Service, cfg.Service, r.Service)
	r.Environment = cmp.Or(o.Environment, cfg.Environment, r.Environment)
	names, docs, err := sample.Files(r, now)
	if err != nil {
		return r, nil, "", err
	}
	signed := "unsigned, as written outside a project (shipgate init): the Build, the deploy request and the approval do not count until signed"
	if o.Settings.HasConfig() {
		signer, err := (&Signing{}).Signer(errOut)
		if err != nil {
			return r, nil, "", err
		}
		if signed, err = SignSample(ctx, signer, cfg.People, docs); err != nil {
			return r, nil, "", err
		}
	}
	return r, names, signed, sample.Write(o.Dir, names, docs, o.Force)
}
