// A harness around gomatrixserverlib's public API for the incoming-PDU
// benchmark (bench/events.bench.ts): the full check of a received PDU as
// Dendrite makes it, timed in rounds the Node side asks for, so that both
// are measured in the same run beside the same bare verify.
//
// The full check: NewEventFromUntrustedJSON (Canonical JSON check, parse,
// content hash, redaction if it fails), VerifyEventSignatures (redaction,
// the sender's server signature through a JSONVerifier that knows the one
// key, as a KeyRing with the key cached does), and EventID (the reference
// hash, which gomatrixserverlib computes lazily).
//
// Usage: gomatrixserverlib-bench CONFIG.json, then lines on standard input:
//
//	check        prints the event ID
//	round MS     runs the full check for about MS milliseconds and prints
//	             "OPS SECONDS"
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
)

// config is what the Node side writes: the event as received and the key.
type config struct {
	RoomVersion string `json:"room_version"`
	ServerName  string `json:"server_name"`
	KeyID       string `json:"key_id"`
	PublicKey   string `json:"public_key"`
	Event       string `json:"event"`
}

// oneKey verifies JSON with the one key it knows, as a KeyRing whose
// database already holds that key does after its lookup.
type oneKey struct {
	server spec.ServerName
	keyID  gmsl.KeyID
	key    ed25519.PublicKey
}

func (k oneKey) VerifyJSONs(_ context.Context, requests []gmsl.VerifyJSONRequest) ([]gmsl.VerifyJSONResult, error) {
	results := make([]gmsl.VerifyJSONResult, len(requests))
	for i, r := range requests {
		if r.ServerName != k.server {
			results[i].Error = fmt.Errorf("no key for %s", r.ServerName)
			continue
		}
		results[i].Error = gmsl.VerifyJSON(string(k.server), k.keyID, k.key, r.Message)
	}
	return results, nil
}

func userIDForSender(roomID spec.RoomID, senderID spec.SenderID) (*spec.UserID, error) {
	return spec.NewUserID(string(senderID), true)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gomatrixserverlib-bench CONFIG.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	fail(err)
	var c config
	fail(json.Unmarshal(raw, &c))
	pk, err := base64.RawStdEncoding.DecodeString(c.PublicKey)
	fail(err)
	version, err := gmsl.GetRoomVersion(gmsl.RoomVersion(c.RoomVersion))
	fail(err)
	verifier := oneKey{spec.ServerName(c.ServerName), gmsl.KeyID(c.KeyID), ed25519.PublicKey(pk)}
	event := []byte(c.Event)
	ctx := context.Background()

	check := func() string {
		// NewEventFromUntrustedJSON edits its input in place (sjson): each
		// check gets the bytes as received, as a server reading a request does.
		received := append([]byte(nil), event...)
		pdu, err := version.NewEventFromUntrustedJSON(received)
		fail(err)
		fail(gmsl.VerifyEventSignatures(ctx, pdu, verifier, userIDForSender))
		return pdu.EventID()
	}

	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	var sink string
	for in.Scan() {
		fields := strings.Fields(in.Text())
		switch {
		case len(fields) == 1 && fields[0] == "check":
			fmt.Fprintln(out, check())
		case len(fields) == 2 && fields[0] == "round":
			ms, err := strconv.Atoi(fields[1])
			fail(err)
			ops := 0
			start := time.Now()
			deadline := start.Add(time.Duration(ms) * time.Millisecond)
			for time.Now().Before(deadline) {
				for i := 0; i < 16; i++ {
					sink = check()
				}
				ops += 16
			}
			fmt.Fprintf(out, "%d %.9f\n", ops, time.Since(start).Seconds())
		default:
			fail(fmt.Errorf("unknown command %q", in.Text()))
		}
		fail(out.Flush())
	}
	_ = sink
	fail(in.Err())
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gomatrixserverlib-bench:", err)
		os.Exit(1)
	}
}
