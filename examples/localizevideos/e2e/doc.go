// Package e2e holds the end-to-end tests of the LocalizeVideos example:
// the app in examples/localizevideos/app, run by a real PM2 daemon from a
// real git checkout, released, verified, rolled back and reconciled by the
// shipgate binary, with every step checked in the ledger. The tests skip
// when node, npm or git are missing, and install the app's packages with
// npm ci when they are not there yet.
package e2e
