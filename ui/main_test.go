package ui

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the event reader
// and every command of ours must end with their test. Three goroutines that
// are not ours are let through: a pending tea.Tick timer of a program that
// already quit (it ends within the tick period), the Bubble Tea batch runner
// waiting on that timer, and teatest's SIGINT watcher, which teatest never
// stops. A command of ours blocked inside a batch still runs in a goroutine
// of its own and is caught.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("charm.land/bubbletea/v2.Tick.func1"),
		goleak.IgnoreAnyFunction("charm.land/bubbletea/v2.(*Program).execBatchMsg"),
		goleak.IgnoreAnyFunction("github.com/charmbracelet/x/exp/teatest/v2.NewTestModel.func2"),
	)
}
