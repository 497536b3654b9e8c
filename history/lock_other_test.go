//go:build !unix

package history

const lockingSupported = false
