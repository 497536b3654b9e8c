package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// TestProtobufFromProtoc: Debian's protoc builds the FileDescriptorSet of
// codec/testdata/chat.proto and encodes codec/testdata/envelope.txtpb; npm's
// ws echoes the payload, and --proto-descriptor with --proto-type decode
// what the peer sent, field by field.
func TestProtobufFromProtoc(t *testing.T) {
	desc := filepath.Join(t.TempDir(), "desc.pb")
	chatProtoc(t, nil, "--include_imports", "-o", desc)
	text, err := os.ReadFile("codec/testdata/envelope.txtpb")
	if err != nil {
		t.Fatal(err)
	}
	payload := chatProtoc(t, text, "--encode=chat.v1.Envelope")

	url := peerServer(t, "node-ws") + "/echo"
	code, evs, stderr := runCLI(t, "/wait open\n/binary "+hex.EncodeToString(payload)+"\n/expect message in\n",
		"--json", "--proto-descriptor", desc, "--proto-type", "chat.v1.Envelope", url)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	in := find(evs, and(is("type", "message"), is("dir", "in")))
	if len(in) != 1 || in[0]["opcode"] != "binary" || in[0]["base64"] != base64.StdEncoding.EncodeToString(payload) {
		t.Fatalf("received %v", in)
	}
	dec, _ := in[0]["decoded"].(map[string]any)
	if dec["protocol"] != "protobuf" || dec["kind"] != "chat.v1.Envelope" {
		t.Fatalf("decoded %v", dec)
	}
	var got struct {
		Room string
		Seq  string // int64 is a JSON string in protobuf's JSON mapping
		Msgs []struct {
			Text   string
			Blob   []byte
			Author *struct {
				Name string
				ID   uint32
			}
		}
		Kind string
		Tags []string
		Sent string
	}
	value, _ := json.Marshal(dec["value"])
	if err := json.Unmarshal(value, &got); err != nil {
		t.Fatalf("value %s: %v", value, err)
	}
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"room (string)", got.Room, "lobby"},
		{"seq (int64)", got.Seq, "150"},
		{"len(msgs) (repeated message)", len(got.Msgs), 2},
		{"kind (enum)", got.Kind, "KIND_SYSTEM"},
		{"tags (repeated string)", got.Tags, []string{"a", "b"}},
		{"sent (imported google.protobuf.Timestamp)", got.Sent, "2025-01-02T03:04:05.000000005Z"},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.field, c.got, c.want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	m0, m1 := got.Msgs[0], got.Msgs[1]
	if m0.Text != "hi" || !bytes.Equal(m0.Blob, []byte{1, 2}) || m0.Author == nil || m0.Author.Name != "ann" || m0.Author.ID != 7 {
		t.Errorf("msgs[0] (bytes, nested message) decoded as %s", value)
	}
	if m1.Text != "hé" || m1.Blob != nil || m1.Author != nil {
		t.Errorf("msgs[1] (UTF-8 text, unset fields) decoded as %s", value)
	}
}

// chatProtoc runs Debian's protoc on codec/testdata/chat.proto with args
// and stdin and returns its output; make peers installs it.
func chatProtoc(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("protoc", append(args, "chat.proto")...)
	cmd.Dir = "codec/testdata"
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("protoc %v: %v: %s (make peers installs protobuf-compiler)", args, err, stderr)
	}
	return out
}
