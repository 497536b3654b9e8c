//go:build !unix

package history

import "os"

// lockFile stands in for advisory locks where the platform has none here:
// every file counts as unlocked, and only the in-process registry of active
// recordings (see active) protects a recording from Prune.
func lockFile(f *os.File) (bool, error) { return true, nil }

// unlockFile releases a lock taken by lockFile.
func unlockFile(f *os.File) {}
