# make test: the whole test suite on a fresh machine. It installs the WebSocket
# peers the tests run against (Debian's python3-websockets and
# chromium-headless-shell, npm's ws and puppeteer-core), checks
# formatting and vet, runs every test under the race detector (with a
# goroutine-leak check in each package), then fuzzes each target briefly.
#
# make demo: the TUI on the built-in lab server.

# Fuzzing is counted in runs, not seconds: a time budget makes the fuzz
# coordinator miss its deadline on a loaded 2-core machine.
FUZZTIME ?= 20000x
GO ?= go

.PHONY: test peers check race fuzz demo build

test: peers check race fuzz

peers:
	@/usr/bin/python3 -c 'import websockets' 2>/dev/null || { \
		echo "installing Debian's python3-websockets"; \
		apt-get update -qq && apt-get install -y -qq python3-websockets >/dev/null; }
	@command -v tinyproxy >/dev/null || { \
		echo "installing Debian's tinyproxy"; \
		apt-get update -qq && apt-get install -y -qq tinyproxy >/dev/null; }
	@command -v node >/dev/null || { echo "node is needed for the npm ws peer"; exit 1; }
	@test -d session/testdata/peers/node_modules/ws || { \
		echo "installing npm's ws"; \
		cd session/testdata/peers && npm ci --no-audit --no-fund --silent; }
	@test -d codec/testdata/peers/node_modules || { echo "installing the codec peers (socket.io, graphql-ws, ...)"; cd codec/testdata/peers && npm ci --no-audit --no-fund --silent; }
	@test -x /usr/bin/chromium-headless-shell || test -x /usr/bin/chromium || { \
		echo "installing Debian's chromium-headless-shell"; \
		apt-get update -qq && apt-get install -y -qq chromium-headless-shell >/dev/null; }
	@test -d testdata/browser/node_modules/puppeteer-core || { \
		echo "installing npm's puppeteer-core"; \
		cd testdata/browser && npm ci --no-audit --no-fund --silent; }

check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

race:
	$(GO) test -race -timeout 8m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime 5000x -fuzzminimizetime 100x ./session
	$(GO) test -run '^$$' -fuzz '^FuzzReadHeader$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./internal/wsframe
	$(GO) test -run '^$$' -fuzz '^FuzzUTF8Pieces$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./internal/wsframe
	$(GO) test -run '^$$' -fuzz '^FuzzParseCommand$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./session
	$(GO) test -run '^$$' -fuzz '^FuzzParseExpect$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./session
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./history
	$(GO) test -run '^$$' -fuzz '^FuzzFastMessage$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./history
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./codec

demo:
	$(GO) run . demo

build:
	$(GO) build -o wsinspect .
