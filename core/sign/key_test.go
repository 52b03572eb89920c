package sign

import (
	"testing"
	"time"
)

// A key file with several armored blocks (as distributions ship
// RPM-GPG-KEY-* files) gives every key.
func TestKeyringReadsEveryBlock(t *testing.T) {
	a, _ := Generate("A <a@quarry.example>", 2048, time.Unix(1700000000, 0))
	b, _ := Generate("B <b@quarry.example>", 2048, time.Unix(1700000000, 0))
	pa, _ := a.PublicArmored()
	pb, _ := b.PublicArmored()
	ring, err := Keyring(append(append(pa, '\n'), pb...))
	if err != nil || len(ring) != 2 {
		t.Fatalf("%d keys, %v", len(ring), err)
	}
	if _, err := Keyring([]byte("not a key")); err == nil {
		t.Error("garbage read as a keyring")
	}
}
