package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/wsinspect/wsinspect/session"
)

// Controller carries user actions to the sockets; the program implements it
// over the session manager. Its methods must return quickly: the UI calls
// them from Update, and the engine does the slow work asynchronously and
// reports the outcome as events.
type Controller interface {
	Do(target int, cmd session.Command) error // target: socket id, 0 = every socket
	Open(spec string) (int, error)            // spec: "URL [flags]" as typed in the new-connection prompt; returns the new socket id
	AbortAll()                                // drop every socket's TCP connection: quitting when peers have not answered
}

// Store is optional persistence across runs (the history package implements
// it). The UI calls it only from commands, never from Update, so an
// implementation may touch the disk; it must be safe for concurrent use.
type Store interface {
	Recall(host string) []string // earlier sends to host across runs, oldest first
	AddRecall(host, text string) error
	RecentURLs() []string // newest first, "URL [flags]"
	AddRecentURL(line string) error
	SavedMessages() map[string]string
	SaveMessage(name, text string) error
	DeleteSaved(name string) error
}

// Options configures New. The zero value of each field means its default.
type Options struct {
	// Events is the engine's stream (or a replay loader's); the UI ends its
	// reading when it is closed.
	Events <-chan session.Event
	// Controller carries actions to the sockets. Nil means read-only replay:
	// every sending or closing action says so and does nothing.
	Controller Controller
	// Store keeps recall, recent URLs and saved messages across runs. Nil
	// keeps them for this run only.
	Store Store
	// KeyMap holds the bindings. Defaults to DefaultKeyMap().
	KeyMap KeyMap
	// MaxEntries is how many log entries are kept per socket; older ones
	// are let go and counted. Defaults to 100000.
	MaxEntries int
	// Title names the session in the title bar ("demo", "replay …").
	Title string
	// Theme is "auto" (ask the terminal for its background), "dark" or
	// "light". Defaults to "auto".
	Theme string
	// NoColor draws without colour, marking state and selection with
	// attributes alone (set it for NO_COLOR). A terminal whose colour
	// profile has no colours gets the same styles automatically.
	NoColor bool
	// Location is the zone timestamps are shown in. Defaults to time.Local.
	Location *time.Location
	// Clock returns the current time, against which the receive rate is
	// measured. Defaults to time.Now.
	Clock func() time.Time
	// QuitTimeout is how long quitting waits for peers to answer the close
	// before TCP is dropped (Controller.AbortAll). Defaults to 2 seconds.
	QuitTimeout time.Duration
	// BatchSize caps how many waiting events enter one Update. Defaults to 4096.
	BatchSize int
	// Notice is a warning shown in the help bar at start, such as history
	// being off because its directory is unsafe: the program's stderr is
	// hidden behind the TUI. Defaults to none.
	Notice string
	// SecretPlaceholder is what the Store writes in place of a secret in
	// the connection lines it keeps across runs. A line holding it is
	// never dialed as it is: the UI asks for each value first, with a
	// masked input. Defaults to "REDACTED", history's placeholder.
	SecretPlaceholder string
	// SaveScript writes one socket's events (its states, handshake and
	// data messages, as far as the log still holds them) as a .ws script
	// and says where. The UI calls it from a command, never from Update.
	// Nil turns the key off.
	SaveScript func(conn int, events []session.Event) (path string, err error)
	// URLHint is the example shown in an empty new-connection prompt, e.g.
	// the lab's echo URL in the demo. Defaults to "ws://host:port/path".
	URLHint string
}

// EventsMsg is a batch of events: everything that was waiting on the
// channel when the UI last looked, so a burst costs one render.
type EventsMsg []session.Event

// EventsDoneMsg says the event channel was closed.
type EventsDoneMsg struct{}

// waitEventsCmd waits for the next event and drains whatever else is already
// waiting, up to max, into one EventsMsg.
func waitEventsCmd(ch <-chan session.Event, max int) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return EventsDoneMsg{}
		}
		batch := make(EventsMsg, 1, 64)
		batch[0] = ev
		for len(batch) < max {
			select {
			case ev, ok := <-ch:
				if !ok {
					return batch // the next wait reports the end
				}
				batch = append(batch, ev)
			default:
				return batch
			}
		}
		return batch
	}
}

// common is what every pane shares: the sockets, the styles, the keys and
// the settings. Panes hold a pointer so a theme change reaches all of them.
type common struct {
	socks    *sockets
	styles   Styles
	keys     KeyMap
	ctl      Controller
	store    Store
	loc      *time.Location
	clock    func() time.Time
	readOnly bool
	relay    bool   // a relay pair has been seen: the Held pane and its keys are on
	urlHint  string // the new-connection prompt's example URL
	secret   string // Options.SecretPlaceholder
	save     func(conn int, events []session.Event) (string, error)
}
