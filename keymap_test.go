package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadKeyMapOverrides(t *testing.T) {
	path := writeConfig(t, `
theme = "dark"   # other settings are not ours and are left alone

[keys]
close = ["x"]
ping = "P"
abort = []
next_pane = ["tab", "ctrl+n"]
`)
	km, err := loadKeyMap(path)
	if err != nil {
		t.Fatal(err)
	}
	x := tea.KeyPressMsg{Code: 'x', Text: "x"}
	c := tea.KeyPressMsg{Code: 'c', Text: "c"}
	if !key.Matches(x, km.Close) || key.Matches(c, km.Close) {
		t.Errorf("close keys = %v, want [x]", km.Close.Keys())
	}
	if km.Close.Help().Key != "x" || km.Close.Help().Desc != "close" {
		t.Errorf("close help = %+v, want key x, desc close", km.Close.Help())
	}
	if !key.Matches(tea.KeyPressMsg{Code: 'p', Text: "P"}, km.Ping) {
		t.Errorf("ping keys = %v, want [P]", km.Ping.Keys())
	}
	if km.Abort.Enabled() || key.Matches(tea.KeyPressMsg{Code: 'a', Text: "a"}, km.Abort) {
		t.Errorf("abort should be off, keys = %v", km.Abort.Keys())
	}
	if !key.Matches(tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}, km.NextPane) {
		t.Errorf("next_pane keys = %v, want ctrl+n among them", km.NextPane.Keys())
	}
	if got := km.Reconnect.Keys(); len(got) != 1 || got[0] != "r" {
		t.Errorf("untouched reconnect = %v, want [r]", got)
	}
}

func TestLoadKeyMapMissingFileIsDefaults(t *testing.T) {
	km, err := loadKeyMap(filepath.Join(t.TempDir(), "nope.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := km.Close.Keys(); len(got) != 1 || got[0] != "c" {
		t.Errorf("close = %v, want the default [c]", got)
	}
}

func TestLoadKeyMapErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"unknown action", "[keys]\nexplode = [\"x\"]", `unknown action "explode"`},
		{"unknown key name", "[keys]\nclose = [\"ctrl+banana\"]", `unknown key name "banana"`},
		{"unknown modifier", "[keys]\nclose = [\"cmd+x\"]", `unknown modifier "cmd"`},
		{"shift letter", "[keys]\nclose = [\"shift+x\"]", `write the shifted character itself, e.g. "X"`},
		{"not a string", "[keys]\nclose = [1]", "keys must be strings"},
		{"wrong type", "[keys]\nclose = 3", "want a key or a list of keys"},
		{"empty key", "[keys]\nclose = [\"\"]", "empty key"},
		{"conflict", "[keys]\nclose = [\"p\"]", `key "p" is bound to both close and ping`},
		{"bad toml", "[keys\nclose = 1", "failed to read key bindings"},
		{"unbound force_quit", "[keys]\nforce_quit = []", "force_quit cannot be turned off: ctrl+c always quits"},
		{"ctrl+c taken", "[keys]\nforce_quit = [\"ctrl+q\"]\ncopy = [\"ctrl+c\"]", `key "ctrl+c" is bound to both`},
		{"modifier without key", "[keys]\nclose = [\"ctrl+\"]", `key "ctrl+"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.body)
			_, err := loadKeyMap(path)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q, want it to contain %q and the path", err, tc.want)
			}
		})
	}
}

func TestCheckKeyAccepts(t *testing.T) {
	for _, k := range []string{"x", "G", "?", "/", "+", "ctrl+c", "alt+enter", "shift+tab", "ctrl+shift+up", "f5", "pgdown", "ctrl++", "é"} {
		if err := checkKey(k); err != nil {
			t.Errorf("checkKey(%q) = %v, want ok", k, err)
		}
	}
}

func TestDefaultConfigPathUsesXDG(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/tmp/xdg")
	if got := defaultConfigPath(); got != "/tmp/xdg/wsinspect/config.toml" {
		t.Errorf("defaultConfigPath() = %q", got)
	}
}

// TestForceQuitKeepsCtrlC: keys added to force_quit come on top of ctrl+c.
func TestForceQuitKeepsCtrlC(t *testing.T) {
	km, err := loadKeyMap(writeConfig(t, "[keys]\nforce_quit = [\"ctrl+q\"]"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []tea.KeyPressMsg{{Code: 'c', Mod: tea.ModCtrl}, {Code: 'q', Mod: tea.ModCtrl}} {
		if !key.Matches(k, km.ForceQuit) {
			t.Errorf("%s does not force quit; keys %v", k, km.ForceQuit.Keys())
		}
	}
}
