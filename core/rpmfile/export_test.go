package rpmfile

import "github.com/quarrylinux/quarry/core/store"

// ParseSignature is parseSignature, for the external fuzz tests.
var ParseSignature = parseSignature

// Unpack unpacks a payload as Files does, given what the headers say.
func Unpack(compression string, size int64, payload []byte) (map[string]*store.File, error) {
	return unpack(payloadSpec{compression: compression, format: "cpio", size: size}, payload)
}
