package outbound_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox/outbound"
)

func TestGuard(t *testing.T) {
	private, _ := outbound.ParsePrefixes([]string{"10.0.0.0/8"})
	for _, tc := range []struct {
		name  string
		guard outbound.Guard
		addr  string
		ok    bool
	}{
		{"metadata", outbound.Guard{}, "169.254.169.254", false},
		{"link-local v4", outbound.Guard{}, "169.254.1.1", false},
		{"link-local v6", outbound.Guard{}, "fe80::1", false},
		{"link-local v6 with zone", outbound.Guard{}, "fe80::1%eth0", false},
		{"mapped metadata", outbound.Guard{}, "::ffff:169.254.169.254", false},
		{"aws v6 metadata", outbound.Guard{}, "fd00:ec2::254", false},
		{"alibaba metadata", outbound.Guard{}, "100.100.100.200", false},
		{"unspecified", outbound.Guard{}, "0.0.0.0", false},
		{"multicast", outbound.Guard{}, "224.0.0.1", false},
		{"metadata even when allowed", outbound.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}}, "169.254.169.254", false},
		{"loopback by default", outbound.Guard{}, "127.0.0.1", true},
		{"v6 loopback by default", outbound.Guard{}, "::1", true},
		{"private by default", outbound.Guard{}, "10.1.2.3", true},
		{"public", outbound.Guard{}, "93.184.216.34", true},
		{"deny loopback", outbound.Guard{DenyLoopback: true}, "127.0.0.1", false},
		{"deny private", outbound.Guard{DenyPrivate: true}, "192.168.1.1", false},
		{"deny list", outbound.Guard{Deny: private}, "10.9.9.9", false},
		{"allow list admits", outbound.Guard{Allow: private}, "10.9.9.9", true},
		{"allow list excludes", outbound.Guard{Allow: private}, "93.184.216.34", false},
		{"allow beats deny loopback", outbound.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, DenyLoopback: true}, "127.0.0.1", true},
		{"deny beats allow", outbound.Guard{Allow: private, Deny: private}, "10.9.9.9", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.guard.Control("tcp", net.JoinHostPort(tc.addr, "80"), nil)
			if tc.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, outbound.ErrDestinationRefused) {
				t.Errorf("allowed (%v)", err)
			}
		})
	}
	if _, err := outbound.ParsePrefixes([]string{"nope"}); err == nil {
		t.Error("ParsePrefixes accepted nope")
	}
	if p, err := outbound.ParsePrefixes([]string{"192.0.2.7", "10.1.0.0/8"}); err != nil || p[0].Bits() != 32 || p[1].String() != "10.0.0.0/8" {
		t.Errorf("ParsePrefixes = %v, %v", p, err)
	}
}
