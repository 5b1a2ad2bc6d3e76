package sandbox_test

import (
	"errors"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		raw, country, want string
	}{
		{"+1 888-888-8888", "", "+18888888888"},
		{"(415) 555-1234", "", "+14155551234"},
		{"415.555.1234", "US", "+14155551234"},
		{"1-415-555-1234", "US", "+14155551234"},
		{"011 44 20 7946 0958", "US", "+442079460958"},
		{"0044 20 7946 0958", "", "+442079460958"},
		{"+44 (0)20 7946 0958", "", ""}, // the (0) is not E.164
		{"020 7946 0958", "GB", "+442079460958"},
		{"020 7946 0958", "gb", "+442079460958"},
		{"07700 900123", "GB", "+447700900123"},
		{"030 123456", "DE", "+4930123456"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"06 1234 5678", "IT", "+390612345678"}, // Italy keeps its leading 0
		{"98765 43210", "IN", "+919876543210"},
		{"0412 345 678", "AU", "+61412345678"},
		{"8 916 123-45-67", "RU", "+79161234567"},
		{"(415) 555-1234", "ZZ", "+14155551234"}, // unknown country: the US
		{"+971 50 123 4567", "", "+971501234567"},
		{"+999 1234 5678", "", "+99912345678"}, // a code the table lacks: E.164 bounds only
		{"+1 415 555 1234", "GB", "+14155551234"},
		// Not phone numbers.
		{"", "", ""},
		{"call me", "", ""},
		{"555-1234", "US", ""},       // seven digits: no area code
		{"(115) 555-1234", "US", ""}, // NANP area codes never start with 1
		{"+1 415 555 12345", "", ""},
		{"+44 20", "", ""},
		{"+0 123 456 789", "", ""},
		{"+1234567890123456", "", ""},
		{"415+5551234", "", ""},
		{"415-555-1234 ext 5", "", ""},
	} {
		got, err := sandbox.NormalizePhone(tc.raw, tc.country)
		if tc.want == "" {
			if !errors.Is(err, sandbox.ErrInvalidPhone) {
				t.Errorf("NormalizePhone(%q, %q) = %q, %v; want ErrInvalidPhone", tc.raw, tc.country, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.country, got, err, tc.want)
		}
		// E.164 is a fixed point.
		if again, err := sandbox.NormalizePhone(got, "GB"); err != nil || again != got {
			t.Errorf("NormalizePhone(%q) = %q, %v; E.164 should stay as it is", got, again, err)
		}
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+1 888-888-8888", "(415) 555-1234", "0044 20 7946 0958", "020 7946 0958", "x", ""} {
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, raw, country string) {
		got, err := sandbox.NormalizePhone(raw, country)
		if err != nil {
			return
		}
		if len(got) < 8 || len(got) > 16 || got[0] != '+' || got[1] == '0' {
			t.Fatalf("NormalizePhone(%q, %q) = %q", raw, country, got)
		}
		for _, c := range got[1:] {
			if c < '0' || c > '9' {
				t.Fatalf("NormalizePhone(%q, %q) = %q", raw, country, got)
			}
		}
		if again, err := sandbox.NormalizePhone(got, country); err != nil || again != got {
			t.Fatalf("not a fixed point: %q -> %q, %v", got, again, err)
		}
	})
}
