//go:build unix

package history

const lockingSupported = true
