# make test: the whole test suite on a fresh machine. It installs the peers
# the tests run against: Debian's python3-websockets, tinyproxy,
# chromium-headless-shell, mosquitto and mosquitto-clients (an MQTT broker
# and its publisher) and protobuf-compiler (protoc, with libprotobuf-dev for
# its imports), and from committed lockfiles npm's ws, puppeteer-core and
# the codec peers (socket.io, graphql-ws, rpc-websockets, stomp-broker-js,
# @msgpack/msgpack, cbor), again whenever a lockfile is newer than its
# node_modules. It then checks formatting and vet, runs every test under
# the race detector (with a goroutine-leak check in each package), and
# fuzzes each target briefly.
#
# make demo: the TUI on the built-in lab server.

# Fuzzing is counted in runs, not seconds: a time budget makes the fuzz
# coordinator miss its deadline on a loaded 2-core machine.
FUZZTIME ?= 20000x
GO ?= go

.PHONY: test peers check race fuzz demo build

# npm_ci DIR,WHAT installs DIR's npm packages from its committed lockfile
# when node_modules is missing or older than the lockfile: npm writes
# node_modules/.package-lock.json at the end of every install, so a lockfile
# changed since (a pull, a branch switch) is installed again.
npm_ci = test $(1)/node_modules/.package-lock.json -nt $(1)/package-lock.json || { \
	echo "installing the npm packages of $(1) ($(2))"; \
	cd $(1) && npm ci --no-audit --no-fund --silent; }

test: peers check race fuzz

peers:
	@/usr/bin/python3 -c 'import websockets' 2>/dev/null || { \
		echo "installing Debian's python3-websockets"; \
		apt-get update -qq && apt-get install -y -qq python3-websockets >/dev/null; }
	@command -v tinyproxy >/dev/null || { \
		echo "installing Debian's tinyproxy"; \
		apt-get update -qq && apt-get install -y -qq tinyproxy >/dev/null; }
	@command -v node >/dev/null || { echo "node is needed for the npm ws peer"; exit 1; }
	@$(call npm_ci,session/testdata/peers,ws)
	@$(call npm_ci,codec/testdata/peers,socket.io graphql-ws rpc-websockets stomp-broker-js ...)
	@test -x /usr/sbin/mosquitto && command -v mosquitto_pub >/dev/null || { \
		echo "installing Debian's mosquitto and mosquitto-clients"; \
		apt-get update -qq && apt-get install -y -qq mosquitto mosquitto-clients >/dev/null; }
	@command -v protoc >/dev/null && test -f /usr/include/google/protobuf/timestamp.proto || { \
		echo "installing Debian's protobuf-compiler and libprotobuf-dev (its .proto imports)"; \
		apt-get update -qq && apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null; }
	@test -x /usr/bin/chromium-headless-shell || test -x /usr/bin/chromium || { \
		echo "installing Debian's chromium-headless-shell"; \
		apt-get update -qq && apt-get install -y -qq chromium-headless-shell >/dev/null; }
	@$(call npm_ci,testdata/browser,puppeteer-core)

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
