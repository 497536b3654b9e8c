package ui

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the event reader
// and every teatest program must end with their test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
