package watch

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/localizevideos/shipgate/signals"
)

// RecordedBaselines takes the baselines of set's signals from an earlier
// window: data is the data of a Monitoring evidence document
// (schemas/monitoring.json), e.g. that of the service's last release that
// completed. A signal's baseline is the median of its recorded values with
// data, which one spike in the earlier window does not move.
//
// Only signals whose condition reads baseline and that store none in the
// file need one. The earlier window must have been healthy, and every such
// signal must have at least one recorded value: anything else is an error
// naming what is missing, never a zero baseline.
func RecordedBaselines(set *signals.Set, data []byte) (map[string]float64, error) {
	var m struct {
		Result  string `json:"result"`
		Samples []struct {
			Values map[string]*float64 `json:"values"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read the recorded window: %w", err)
	}
	if m.Result != Healthy {
		return nil, fmt.Errorf("the recorded window is %q, not healthy: it is no baseline", m.Result)
	}
	out := map[string]float64{}
	var missing []string
	for _, sig := range set.Signals {
		if !sig.NeedsBaseline || sig.FixedBaseline != nil {
			continue
		}
		var vals []float64
		for _, s := range m.Samples {
			if v := s.Values[sig.Name]; v != nil {
				vals = append(vals, *v)
			}
		}
		if len(vals) == 0 {
			missing = append(missing, sig.Name)
			continue
		}
		out[sig.Name] = median(vals)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the recorded window has no samples with data of %s", strings.Join(missing, ", "))
	}
	return out, nil
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
