package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/wsinspect/wsinspect/ui"
)

// keyConfig is the part of config.toml this file reads; other tables are
// left to whoever owns them.
type keyConfig struct {
	Keys map[string]any `toml:"keys"`
}

// defaultConfigPath is $XDG_CONFIG_HOME/wsinspect/config.toml, falling back
// to ~/.config when XDG_CONFIG_HOME is unset.
func defaultConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "wsinspect", "config.toml")
}

// loadKeyMap returns the default bindings with the overrides of the [keys]
// table of the config file at path applied, for example
//
//	[keys]
//	close = ["x"]
//	ping  = "P"
//	abort = []        # turn the action off
//
// A missing file means the defaults (the command line refuses a --config
// that does not exist before this runs). An unknown action, a key that
// Bubble Tea can never report, one key bound to two global actions, or
// force_quit without ctrl+c's way out is an error that names the file, the
// action and the key.
func loadKeyMap(path string) (ui.KeyMap, error) {
	km := ui.DefaultKeyMap()
	if path == "" {
		return km, nil
	}
	var cfg keyConfig
	_, err := toml.DecodeFile(path, &cfg)
	if errors.Is(err, fs.ErrNotExist) {
		return km, nil
	}
	if err != nil {
		return km, fmt.Errorf("failed to read key bindings from %s: %w", path, err)
	}
	names := make([]string, 0, len(cfg.Keys))
	for name := range cfg.Keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, action := range names {
		b := km.Binding(action)
		if b == nil {
			return km, fmt.Errorf("%s: [keys] has unknown action %q (actions: %s)", path, action, strings.Join(ui.ActionNames(), ", "))
		}
		keys, err := keyList(cfg.Keys[action])
		if err != nil {
			return km, fmt.Errorf("%s: [keys] %s: %w", path, action, err)
		}
		for _, k := range keys {
			if err := checkKey(k); err != nil {
				return km, fmt.Errorf("%s: [keys] %s: %w", path, action, err)
			}
		}
		if action == "force_quit" {
			// README promises that Ctrl-C always quits: other keys may be
			// added, ctrl+c is never taken away.
			if len(keys) == 0 {
				return km, fmt.Errorf("%s: [keys] force_quit cannot be turned off: ctrl+c always quits (add keys to it instead)", path)
			}
			if !slices.Contains(keys, "ctrl+c") {
				keys = append(keys, "ctrl+c")
			}
		}
		if len(keys) == 0 {
			b.Unbind()
			continue
		}
		desc := b.Help().Desc
		b.SetKeys(keys...)
		b.SetHelp(keys[0], desc)
	}
	if err := checkConflicts(&km); err != nil {
		return km, fmt.Errorf("%s: %w", path, err)
	}
	return km, nil
}

// keyList accepts a string or an array of strings.
func keyList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("keys must be strings, got %v (%T)", x, x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf(`want a key or a list of keys such as ["x", "ctrl+x"], got %v (%T)`, v, v)
}

// namedKeys are the key names Bubble Tea reports.
var namedKeys = map[string]bool{
	"enter": true, "tab": true, "backspace": true, "esc": true, "space": true,
	"up": true, "down": true, "left": true, "right": true, "begin": true, "find": true,
	"insert": true, "delete": true, "select": true, "pgup": true, "pgdown": true,
	"home": true, "end": true,
}

var modifiers = map[string]bool{"ctrl": true, "alt": true, "shift": true, "meta": true, "hyper": true, "super": true}

// checkKey rejects keys that can never match a key press: unknown names,
// unknown modifiers, and shift with a printable character (Bubble Tea
// reports the shifted character itself, so "shift+g" arrives as "G").
func checkKey(k string) error {
	if k == "" {
		return errors.New("empty key")
	}
	if utf8.RuneCountInString(k) == 1 {
		return nil // a printable character, including "+"
	}
	parts := strings.Split(k, "+")
	base := parts[len(parts)-1]
	mods := parts[:len(parts)-1]
	if base == "" {
		if !strings.HasSuffix(k, "++") {
			return fmt.Errorf("key %q: a modifier needs a key after it, as in %q", k, k+"x")
		}
		base, mods = "+", parts[:len(parts)-2] // "ctrl++"
	}
	seen := map[string]bool{}
	for _, m := range mods {
		if !modifiers[m] {
			return fmt.Errorf("key %q: unknown modifier %q (use ctrl, alt, shift, meta, hyper, super)", k, m)
		}
		if seen[m] {
			return fmt.Errorf("key %q: modifier %q twice", k, m)
		}
		seen[m] = true
	}
	if utf8.RuneCountInString(base) == 1 {
		if len(mods) == 1 && mods[0] == "shift" {
			return fmt.Errorf("key %q never arrives: write the shifted character itself, e.g. %q", k, strings.ToUpper(base))
		}
		return nil
	}
	if namedKeys[base] {
		return nil
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(base, "f")); err == nil && strings.HasPrefix(base, "f") && n >= 1 && n <= 63 {
		return nil
	}
	return fmt.Errorf("key %q: unknown key name %q (a character, or one of enter tab esc space backspace delete insert up down left right home end pgup pgdown f1…f63, with ctrl+/alt+/shift+)", k, base)
}

// checkConflicts reports a key bound to two actions that are live at the
// same time.
func checkConflicts(km *ui.KeyMap) error {
	owner := map[string]string{}
	for _, action := range ui.GlobalActions {
		b := km.Binding(action)
		for _, k := range b.Keys() {
			if prev, ok := owner[k]; ok {
				return fmt.Errorf("key %q is bound to both %s and %s", k, prev, action)
			}
			owner[k] = action
		}
	}
	return nil
}
