// Package webhook receives and sends GoHighLevel (GHL) webhooks.
//
// Receiving: a [Verifier] checks the signature of a delivery's raw body —
// Ed25519 in X-GHL-Signature, RSA-SHA256 in X-WH-Signature (GHL's published
// key is built in, see [GHLPublicKeyPEM]) or, for workflow webhooks with a
// shared secret, HMAC-SHA256 in X-GHL-Signature as "sha256=<hex>" — then
// guards against replays: the body's timestamp must be within a tolerance
// ([DefaultTolerance]) and its webhookId must not have been seen before (a
// [SeenStore]: [MemorySeenStore] or [SQLSeenStore]). [Parse] turns a body into
// a typed event ([ContactCreate], [AppInstall], …; one type per event GHL
// documents, generated from GHL's docs) and [Handler] does all of it as an
// [net/http.Handler] that dispatches to typed callbacks.
//
// Sending: [Ed25519Signer], [RSASigner] and [HMACSigner] compute the same
// headers, [Sign] collects them into an [net/http.Header], and [Marshal]
// encodes bodies as compact JSON that survives GHL's official SDK, which
// verifies JSON.stringify(JSON.parse(body)) rather than the raw bytes.
//
// Errors are exported ([ErrNoSignature], [ErrInvalidSignature], [ErrTooOld],
// [ErrDuplicate], [ErrInvalidPayload]) for use with [errors.Is].
//
// The typed events are generated: internal/eventgen reads
// internal/eventgen/events.json (extracted once from GHL's Markdown docs) and
// writes events_gen.go.
package webhook

//go:generate go run ./internal/eventgen
