package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// quitRequestMsg asks the root to start quitting (q, /quit).
type quitRequestMsg struct{}

// quitTimeoutMsg ends the wait for peers to answer the close.
type quitTimeoutMsg struct{}

// quitGraceMsg ends the wait for dropped sockets to report their end.
type quitGraceMsg struct{}

// openRequestMsg asks the root to open a socket from a "URL [flags]" spec.
type openRequestMsg struct{ spec string }

// tickMsg refreshes the receive rate once a second.
type tickMsg time.Time

// storeLoadedMsg carries what the Store held at start.
type storeLoadedMsg struct {
	recent []string
	saved  map[string]string
}

// recallLoadedMsg carries earlier sends to one host from the Store.
type recallLoadedMsg struct {
	host  string
	lines []string
}

// storeErrMsg reports a failed Store write; it is shown, never fatal.
type storeErrMsg struct{ err error }

func openCmd(spec string) tea.Cmd {
	return func() tea.Msg { return openRequestMsg{spec: spec} }
}

func tickCmd() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// storeWrite runs a Store write off the Update goroutine.
func storeWrite(s Store, f func(Store) error) tea.Cmd {
	if s == nil {
		return nil
	}
	return func() tea.Msg {
		if err := f(s); err != nil {
			return storeErrMsg{err: err}
		}
		return nil
	}
}

func addRecallCmd(s Store, host, text string) tea.Cmd {
	return storeWrite(s, func(s Store) error { return s.AddRecall(host, text) })
}

func addRecentCmd(s Store, line string) tea.Cmd {
	return storeWrite(s, func(s Store) error { return s.AddRecentURL(line) })
}

func saveMessageCmd(s Store, name, text string) tea.Cmd {
	return storeWrite(s, func(s Store) error { return s.SaveMessage(name, text) })
}

func deleteSavedCmd(s Store, name string) tea.Cmd {
	return storeWrite(s, func(s Store) error { return s.DeleteSaved(name) })
}

// loadStoreCmd reads recent URLs and saved messages at start.
func loadStoreCmd(s Store) tea.Cmd {
	if s == nil {
		return nil
	}
	return func() tea.Msg {
		return storeLoadedMsg{recent: s.RecentURLs(), saved: s.SavedMessages()}
	}
}

// loadRecallCmd reads earlier sends to host, once per host.
func loadRecallCmd(s Store, host string) tea.Cmd {
	if s == nil || host == "" {
		return nil
	}
	return func() tea.Msg {
		return recallLoadedMsg{host: host, lines: s.Recall(host)}
	}
}
