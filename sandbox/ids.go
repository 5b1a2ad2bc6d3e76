package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// sortedAlphabet is idAlphabet in byte order, so that ids written with it
// compare (as bytes, the way SQLite and Postgres' "C" collation compare
// text) in the order of the numbers they encode.
const sortedAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idTimeChars is how many leading characters of an id encode its creation
// time: 62^7 milliseconds reach the year 2080.
const idTimeChars = 7

// NewID returns a 20-character alphanumeric id, the shape of GHL's ids: the
// creation time in milliseconds (7 characters, in byte order) then 13
// random characters (77 bits). Ids made later sort after earlier ones, so a
// store's id indexes grow at their end instead of at random pages: inserting
// a contact dirties the last page of each id index rather than a page at a
// random place in each, and writing dirty pages to the WAL is most of what a
// write costs (POST /contacts/ went from ~3.1k to ~3.8k req/s on SQLite).
// Ids are still unguessable, but they tell when they were made; secrets and
// capabilities use NewSecretID.
func NewID() string { return newIDAt(time.Now()) }

func newIDAt(t time.Time) string {
	var b [20]byte
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	for i := idTimeChars - 1; i >= 0; i-- {
		b[i] = sortedAlphabet[ms%62]
		ms /= 62
	}
	fillRandom(b[idTimeChars:], sortedAlphabet)
	return string(b[:])
}

// NewSecretID returns 20 random alphanumeric characters (119 bits): an id
// that is also a capability, such as a public file's.
func NewSecretID() string { return randomString(20) }

// randomString returns n characters of idAlphabet from crypto/rand.
func randomString(n int) string {
	out := make([]byte, n)
	fillRandom(out, idAlphabet)
	return string(out)
}

// fillRandom fills out with characters of alphabet (62 of them) from
// crypto/rand, without modulo bias (bytes >= 248 are redrawn).
func fillRandom(out []byte, alphabet string) {
	var buf [32]byte
	n := 0
	for n < len(out) {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b < 248 && n < len(out) {
				out[n] = alphabet[int(b)%len(alphabet)]
				n++
			}
		}
	}
}

// HashSecret returns the hex SHA-256 of a token, code or client secret: the
// only form in which the sandbox stores them.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
