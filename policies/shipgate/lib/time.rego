package shipgate.lib

# ns_per_day is the length of a day in nanoseconds.
ns_per_day := ((24 * 60) * 60) * 1000000000

# time.parse_rfc3339_ns(timestamp) is an RFC 3339 timestamp in nanoseconds since the epoch.
ns(timestamp) := time.parse_rfc3339_ns(timestamp)

# now_ns is the evaluation time, input.now, in nanoseconds.
now_ns := time.parse_rfc3339_ns(input.now)

# rfc3339(t) renders nanoseconds t as an RFC 3339 UTC timestamp.
rfc3339(t) := time.format([t, "UTC", "2006-01-02T15:04:05Z07:00"])

# age_days(timestamp) is how many whole days ago timestamp was.
age_days(timestamp) := floor((now_ns - time.parse_rfc3339_ns(timestamp)) / ns_per_day)

# within(start, end) holds when now falls in [start, end).
within(start, end) if {
	time.parse_rfc3339_ns(start) <= now_ns
	now_ns < time.parse_rfc3339_ns(end)
}

# in_order(start, end) holds when end is not before start: a document whose
# end comes before its start does not count for what it claims.
in_order(start, end) if time.parse_rfc3339_ns(start) <= time.parse_rfc3339_ns(end)

# future(timestamp) holds when timestamp is after now.
future(timestamp) if time.parse_rfc3339_ns(timestamp) > now_ns
