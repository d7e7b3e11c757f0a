// Package policydiff tells what a head policy set changes from a base
// policy set (Compare), so that recorded gate inputs can be decided with
// the head by reusing the base's decisions wherever the change cannot
// alter them (Delta.Evaluate): a replay under new policies evaluates the
// changed rule files alone, and the whole gate only where they answer
// differently.
//
// It reads what two loaded engines show of their compiled policy sets;
// the engine knows nothing of it.
package policydiff
