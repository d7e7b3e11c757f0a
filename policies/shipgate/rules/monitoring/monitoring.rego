# Package shipgate.rules.monitoring judges the first minutes after a release:
# every safety signal must be healthy, every required signal present, the
# window long enough and started after the deploy finished; no data is not
# healthy.
package shipgate.rules.monitoring

import data.shipgate.lib

# METADATA
# title: Safety signals healthy after release
# description: >-
#   Fires on the newest Monitoring tied to the deploy, every one of a tie; one
#   finding per problem: `result: breach` (names the breached signals);
#   `result: no-data` ("no data is not healthy"); each signal whose `status`
#   is not `healthy` and not already named by the result, even under `result:
#   healthy`; each signal of `monitoring.required_signals` missing; a window
#   (`window.end - window.start`) shorter than
#   `monitoring.min_window_minutes`; a window that ends before it starts, or
#   after now; each signal recorded `healthy` on fewer `samples` than it needs
#   (its own `minSamples`, at least `monitoring.min_samples`); each signal
#   recorded `healthy` whose own breach `condition`, re-evaluated on the
#   `observed` and `baseline` the document records, holds (see below). Fires
#   with no Monitoring, or none tied to the deploy (naming those ignored). A
#   breached result or signal adds a `rollback` obligation.
# custom:
#   enforcement: hard
#   gates: [complete]
#   remediation: >-
#     on a breach, roll back now (`shipgate rollback`); on no data, a missing
#     signal or a short window, fix the signal sources and watch a full window
#     after the deploy again (`shipgate watch`)
rule["monitoring.healthy"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

# required_signals and min_window_minutes come from data (monitoring.*).
required_signals := object.get(lib.config, ["monitoring", "required_signals"], [])

min_window_minutes := object.get(lib.config, ["monitoring", "min_window_minutes"], 15)

# min_samples is the fewest readings with data a healthy signal needs, also
# when the signal records a smaller minSamples of its own (data
# monitoring.min_samples; 1 when absent: no data is not healthy).
min_samples := object.get(lib.config, ["monitoring", "min_samples"], 1)

# monitorings are the newest of the Monitoring documents whose window started
# after the newest succeeded Deploy finished; each one of a tie is judged, so
# the worst of the tie counts.
monitorings := lib.newest_of(lib.tied_monitoring)

window(monitoring) := sprintf("%s to %s", [monitoring.data.window.start, monitoring.data.window.end])

breached(monitoring) := [signal_name(signal) |
	some signal in monitoring.data.signals
	signal.status == "breach"
]

without_data(monitoring) := [signal_name(signal) |
	some signal in monitoring.data.signals
	signal.status == "no-data"
]

signal_name(signal) := sprintf("%s (observed %v, baseline %v)", [signal.name, signal.observed, signal.baseline]) if {
	signal.observed
	signal.baseline
} else := signal.name

on(monitoring, message) := {"rule": "monitoring.healthy", "message": message, "evidence": [monitoring.digest]}

findings contains {
	"rule": "monitoring.healthy",
	"message": "no Monitoring evidence: the monitoring window was not recorded, and no data is not healthy",
	"evidence": [],
} if count(input.evidence.Monitoring) == 0

findings contains {
	"rule": "monitoring.healthy",
	"message": sprintf("no Monitoring window started after the deploy finished, and no data is not healthy (%s)", [lib.ignored_monitoring]),
	"evidence": lib.digests(input.evidence.Monitoring),
} if {
	count(input.evidence.Monitoring) > 0
	count(monitorings) == 0
}

findings contains on(monitoring, message) if {
	some monitoring in monitorings
	monitoring.data.result == "breach"
	message := sprintf("monitoring %s breached: %s", [window(monitoring), lib.join(breached(monitoring))])
}

findings contains on(monitoring, message) if {
	some monitoring in monitorings
	monitoring.data.result == "no-data"
	message := sprintf(
		"monitoring %s returned no data, and no data is not healthy (signals without data: %s)",
		[window(monitoring), lib.join(without_data(monitoring))],
	)
}

# A signal that is not healthy fires even when result says healthy; signals
# already named by a breach or no-data result are not repeated.
findings contains on(monitoring, message) if {
	some monitoring in monitorings
	some signal in monitoring.data.signals
	signal.status != "healthy"
	signal.status != monitoring.data.result
	message := sprintf(
		"monitoring %s: signal %s is %s, not healthy (result %s)",
		[window(monitoring), signal_name(signal), signal.status, monitoring.data.result],
	)
}

findings contains on(monitoring, message) if {
	some monitoring in monitorings
	some name in required_signals
	every signal in monitoring.data.signals {
		signal.name != name
	}
	message := sprintf("monitoring %s: required signal %s is missing", [window(monitoring), name])
}

findings contains on(monitoring, message) if {
	some monitoring in monitorings
	minutes := (time.parse_rfc3339_ns(monitoring.data.window.end) - time.parse_rfc3339_ns(monitoring.data.window.start)) / 60000000000
	minutes < min_window_minutes
	message := sprintf(
		"monitoring window %s lasted %v minutes, shorter than the required %v minutes",
		[window(monitoring), minutes, min_window_minutes],
	)
}

obligations contains {
	"kind": "rollback",
	"rule": "monitoring.healthy",
	"message": sprintf("rollback now: safety signals breached after release: %s", [lib.join(sort(signals))]),
} if {
	signals := {name |
		some monitoring in monitorings
		some name in breached(monitoring)
	}
	some monitoring in monitorings
	breach(monitoring)
}

breach(monitoring) if monitoring.data.result == "breach"

breach(monitoring) if count(breached(monitoring)) > 0

# A window that ends before it starts does not count: it measured nothing.
findings contains on(monitoring, message) if {
	some monitoring in monitorings
	not lib.in_order(monitoring.data.window.start, monitoring.data.window.end)
	message := sprintf("monitoring window %s ends before it starts, so it does not count", [window(monitoring)])
}

# A window that ends after the evaluation time was not watched to its end.
findings contains on(monitoring, message) if {
	some monitoring in monitorings
	lib.future(monitoring.data.window.end)
	message := sprintf("monitoring window %s ends after the evaluation time (%s): it was not watched to its end", [window(monitoring), input.now])
}

# A signal recorded healthy on fewer readings than it needs (its own
# minSamples, and at least monitoring.min_samples) is no data.
findings contains on(monitoring, message) if {
	some monitoring in monitorings
	some signal in monitoring.data.signals
	signal.status == "healthy"
	needed := max({min_samples, object.get(signal, "minSamples", 0)})
	signal.samples < needed
	message := sprintf(
		"monitoring %s: signal %s is recorded healthy on %v readings with data, fewer than the %v it needs, and no data is not healthy",
		[window(monitoring), signal.name, signal.samples, needed],
	)
}

# A signal recorded healthy whose own breach condition, re-evaluated on the
# observed value and baseline the document records, says breach.
findings contains on(monitoring, message) if {
	some monitoring in monitorings
	some signal in monitoring.data.signals
	signal.status == "healthy"
	breaches(signal) == true
	message := sprintf(
		"monitoring %s: signal %s is recorded healthy, but its breach condition %s holds for what the document records (observed %v, baseline %v)",
		[window(monitoring), signal.name, signal.condition, signal.observed, object.get(signal, "baseline", "none")],
	)
}

# The breach condition of a signal is CEL (docs/watch.md), true on a breach.
# The policy re-evaluates the plain ones: comparisons (< <= > >= == !=) of
# sums and products of numbers, observed and baseline, joined by && and ||
# (&& binding tighter), without parentheses. breaches(signal) is true or
# false for such a condition; undefined for any other, for a signal without
# an observed value, or a condition that reads a baseline it lacks. (Those
# are judged by their status alone; see docs/rules.md, allowed by design.)
breaches(signal) := count([v | some v in values; v]) > 0 if {
	disjuncts := split(signal.condition, "||")
	values := [conjunction(d, signal) | some d in disjuncts]
	count(values) == count(disjuncts)
}

conjunction(text, signal) := count([v | some v in values; v]) == count(values) if {
	conjuncts := split(text, "&&")
	values := [comparison(c, signal) | some c in conjuncts]
	count(values) == count(conjuncts)
}

comparison(text, signal) := compare(op, arithmetic(left, signal), arithmetic(right, signal)) if {
	[[_, left, op, right]] := regex.find_all_string_submatch_n(`^\s*([^<>=!]+?)\s*(<=|>=|==|!=|<|>)\s*([^<>=!]+?)\s*$`, text, 1)
}

compare(op, a, b) := {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]

# arithmetic(text, signal) is the value of a sum of products such as
# `baseline * 1.5 + 0.01`, undefined for anything else.
arithmetic(text, signal) := sum(terms) if {
	tokens := regex.find_n(`observed|baseline|[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|[-+*/]`, text, -1)
	concat("", tokens) == regex.replace(text, `\s+`, "")
	count(tokens) % 2 == 1
	every i, token in tokens {
		operand_place(i, token, signal)
	}
	operators := [token | some i, token in tokens; token in {"+", "-"}]
	every i, _ in tokens {
		not zero_divisor(tokens, i, signal)
	}
	terms := [term |
		some g in numbers.range(0, count(operators))
		term := sign(operators, g) * product(factors(tokens, g, signal))
	]
}

# operand_place(i, token, signal): operands, each with a number for a value,
# at even places, operators at odd ones.
operand_place(i, token, signal) if {
	i % 2 == 0
	is_number(operand(token, signal))
}

operand_place(i, token, _) if {
	i % 2 == 1
	token in {"+", "-", "*", "/"}
}

zero_divisor(tokens, i, signal) if {
	i > 0
	tokens[i - 1] == "/"
	operand(tokens[i], signal) == 0
}

sign(_, 0) := 1

sign(operators, g) := -1 if {
	g > 0
	operators[g - 1] == "-"
}

sign(operators, g) := 1 if {
	g > 0
	operators[g - 1] == "+"
}

# factors(tokens, g, signal) are the operands of the g-th term (terms are
# split at + and -), a divisor as its inverse.
factors(tokens, g, signal) := [factor(tokens, i, signal) |
	some i, _ in tokens
	i % 2 == 0
	count([j | some j, t in tokens; j < i; t in {"+", "-"}]) == g
]

factor(tokens, i, signal) := 1 / operand(tokens[i], signal) if {
	i > 0
	tokens[i - 1] == "/"
} else := operand(tokens[i], signal)

operand("observed", signal) := signal.observed

operand("baseline", signal) := signal.baseline

operand(token, _) := to_number(token) if not token in {"observed", "baseline"}
