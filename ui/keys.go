package ui

import (
	"sort"

	"charm.land/bubbles/v2/key"
)

// KeyMap holds every key binding of the UI. The root keymap.go of the
// program starts from DefaultKeyMap and applies the user's overrides by
// action name (see Binding), so a binding added here is configurable at once.
type KeyMap struct {
	NextPane  key.Binding
	PrevPane  key.Binding
	Compose   key.Binding
	Back      key.Binding
	Up        key.Binding
	Down      key.Binding
	Top       key.Binding
	Bottom    key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Filter    key.Binding
	Open      key.Binding // open the selected entry in the detail pane
	New       key.Binding
	Close     key.Binding
	Abort     key.Binding
	Reconnect key.Binding
	Ping      key.Binding
	Wire      key.Binding
	Timeline  key.Binding
	Zoom      key.Binding // the focused pane alone, full screen
	Forget    key.Binding // take an ended socket off the list
	Follow    key.Binding
	AllSocks  key.Binding
	PairView  key.Binding // relay: the log shows one leg or the pair
	Copy      key.Binding
	Script    key.Binding // save the selected socket's session as a .ws script
	Help      key.Binding
	Quit      key.Binding
	ForceQuit key.Binding

	// Composer.
	Send      key.Binding
	Newline   key.Binding
	RecallOld key.Binding
	RecallNew key.Binding
	Save      key.Binding
	Saved     key.Binding
	Delete    key.Binding // delete a saved message in the picker

	// Held pane (relay).
	Release  key.Binding
	EditHeld key.Binding
	Discard  key.Binding
}

// DefaultKeyMap returns the default bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		NextPane:  b([]string{"tab"}, "tab", "next pane"),
		PrevPane:  b([]string{"shift+tab"}, "shift+tab", "prev pane"),
		Compose:   b([]string{"i"}, "i", "compose"),
		Back:      b([]string{"esc"}, "esc", "back"),
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		Top:       b([]string{"g", "home"}, "g", "top"),
		Bottom:    b([]string{"G", "end"}, "G", "bottom"),
		PageUp:    b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown", "ctrl+f", "space"}, "pgdn", "page down"),
		Filter:    b([]string{"/"}, "/", "filter"),
		Open:      b([]string{"enter"}, "enter", "detail"),
		New:       b([]string{"n"}, "n", "new socket"),
		Close:     b([]string{"c"}, "c", "close"),
		Abort:     b([]string{"a"}, "a", "abort"),
		Reconnect: b([]string{"r"}, "r", "reconnect"),
		Ping:      b([]string{"p"}, "p", "ping"),
		Wire:      b([]string{"w"}, "w", "wire view"),
		Timeline:  b([]string{"t"}, "t", "timeline"),
		Zoom:      b([]string{"z"}, "z", "zoom pane"),
		Forget:    b([]string{"d"}, "d", "forget"),
		Follow:    b([]string{"f"}, "f", "follow"),
		AllSocks:  b([]string{"s"}, "s", "one/all sockets"),
		PairView:  b([]string{"v"}, "v", "leg/pair view"),
		Copy:      b([]string{"y"}, "y", "copy payload"),
		Script:    b([]string{"e"}, "e", "save as .ws script"),
		Help:      b([]string{"?"}, "?", "help"),
		Quit:      b([]string{"q"}, "q", "quit"),
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit"),

		Send:      b([]string{"enter"}, "enter", "send"),
		Newline:   b([]string{"alt+enter", "ctrl+j"}, "alt+enter", "newline"),
		RecallOld: b([]string{"up"}, "↑", "older send"),
		RecallNew: b([]string{"down"}, "↓", "newer send"),
		Save:      b([]string{"ctrl+s"}, "ctrl+s", "save message"),
		Saved:     b([]string{"ctrl+o"}, "ctrl+o", "saved messages"),
		Delete:    b([]string{"ctrl+d", "delete"}, "ctrl+d", "delete saved"),

		Release:  b([]string{"enter"}, "enter", "release"),
		EditHeld: b([]string{"e"}, "e", "edit, then release"),
		Discard:  b([]string{"d"}, "d", "discard"),
	}
}

// actions maps the names used in the config file to the bindings.
func (k *KeyMap) actions() map[string]*key.Binding {
	return map[string]*key.Binding{
		"next_pane": &k.NextPane, "prev_pane": &k.PrevPane, "compose": &k.Compose,
		"back": &k.Back, "up": &k.Up, "down": &k.Down, "top": &k.Top, "bottom": &k.Bottom,
		"page_up": &k.PageUp, "page_down": &k.PageDown, "filter": &k.Filter, "open": &k.Open,
		"new": &k.New, "close": &k.Close, "abort": &k.Abort, "reconnect": &k.Reconnect,
		"ping": &k.Ping, "wire": &k.Wire, "timeline": &k.Timeline, "zoom": &k.Zoom, "forget": &k.Forget, "follow": &k.Follow,
		"all_sockets": &k.AllSocks, "copy": &k.Copy, "save_script": &k.Script, "help": &k.Help, "quit": &k.Quit,
		"force_quit": &k.ForceQuit, "send": &k.Send, "newline": &k.Newline,
		"recall_older": &k.RecallOld, "recall_newer": &k.RecallNew, "save": &k.Save,
		"saved": &k.Saved, "delete_saved": &k.Delete, "pair_view": &k.PairView,
		"release": &k.Release, "edit_held": &k.EditHeld, "discard": &k.Discard,
	}
}

// Binding returns the binding for a config-file action name ("close",
// "next_pane", …), or nil when there is no such action.
func (k *KeyMap) Binding(action string) *key.Binding {
	return k.actions()[action]
}

// ActionNames lists the action names Binding accepts, sorted, for error
// messages and documentation.
func ActionNames() []string {
	var k KeyMap
	names := make([]string, 0, 40)
	for n := range k.actions() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// GlobalActions are the actions that share one key space (outside text
// inputs); the same key bound to two of them is a conflict.
var GlobalActions = []string{
	"next_pane", "prev_pane", "compose", "filter", "new", "close", "abort",
	"reconnect", "ping", "wire", "timeline", "zoom", "forget", "follow", "all_sockets", "pair_view", "copy",
	"save_script", "help", "quit", "force_quit", "top", "bottom", "up", "down", "page_up", "page_down", "open",
}

// isZero reports a KeyMap nobody filled in, so New can fall back to defaults.
func (k KeyMap) isZero() bool {
	return len(k.Quit.Keys()) == 0 && len(k.ForceQuit.Keys()) == 0 && len(k.NextPane.Keys()) == 0
}

// sendActions are the bindings that act on sockets; read-only replay turns
// them off.
func (k *KeyMap) sendActions() []*key.Binding {
	return []*key.Binding{&k.New, &k.Close, &k.Abort, &k.Reconnect, &k.Ping, &k.Compose}
}

// relayActions are the bindings that only mean something in a relay; they
// are hidden until a relay pair shows up.
func (k *KeyMap) relayActions() []*key.Binding {
	return []*key.Binding{&k.PairView, &k.Release, &k.EditHeld, &k.Discard}
}
