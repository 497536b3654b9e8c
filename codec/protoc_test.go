package codec_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// protoc runs Debian's protoc in testdata on chat.proto with args, feeding
// it stdin, and returns what it printed. A missing protoc fails the test:
// make peers installs it.
func protoc(t testing.TB, stdin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("protoc", append(args, "chat.proto")...)
	cmd.Dir = "testdata"
	cmd.Stdin = bytes.NewBufferString(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("protoc %v: %v: %s (make peers installs protobuf-compiler)", args, err, errb.Bytes())
	}
	return out.Bytes()
}

// chatEnvelope is testdata/envelope.txtpb encoded by protoc.
func chatEnvelope(t testing.TB) []byte {
	t.Helper()
	text, err := os.ReadFile("testdata/envelope.txtpb")
	if err != nil {
		t.Fatal(err)
	}
	return protoc(t, string(text), "--encode=chat.v1.Envelope")
}

// chatDescriptor is the FileDescriptorSet protoc builds from
// testdata/chat.proto, with the imported google/protobuf/timestamp.proto.
func chatDescriptor(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "desc.pb")
	protoc(t, "", "--include_imports", "-o", path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
