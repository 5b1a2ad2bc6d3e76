package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns a random 20-character alphanumeric id, the shape of GHL's ids.
func NewID() string { return randomString(20) }

// randomString returns n characters of idAlphabet from crypto/rand, without
// modulo bias (bytes >= 248 are redrawn).
func randomString(n int) string {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, idAlphabet[int(b)%len(idAlphabet)])
			}
		}
	}
	return string(out)
}

// HashSecret returns the hex SHA-256 of a token, code or client secret: the
// only form in which the sandbox stores them.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
