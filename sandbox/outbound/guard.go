package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrDestinationRefused is wrapped by the error of a delivery whose
// destination address the Guard refuses.
var ErrDestinationRefused = errors.New("outbound: destination address refused")

// alwaysRefused are addresses no webhook may reach, whatever the lists say:
// link-local networks, which hold the cloud metadata services
// (169.254.169.254, fd00:ec2::254 and Alibaba's 100.100.100.200 are named
// too), and addresses that are not a single host.
var alwaysRefused = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("100.100.100.200/32"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("ff00::/8"),
}

// Guard decides which addresses deliveries may connect to. It is checked
// when connecting (net.Dialer.Control), on the address actually dialled, so
// a host name that resolves to a refused address — at first or after a DNS
// change (rebinding) — cannot get through.
//
// Link-local and metadata addresses are always refused. Then Deny refuses,
// and a non-empty Allow admits only its networks. Loopback and private
// networks are allowed by default (the sandbox is a local development tool
// whose receivers usually run on the same machine); DenyLoopback and
// DenyPrivate refuse them unless Allow names them.
type Guard struct {
	Allow        []netip.Prefix
	Deny         []netip.Prefix
	DenyLoopback bool
	DenyPrivate  bool
}

// Check returns nil if deliveries may connect to ip, or an error wrapping
// ErrDestinationRefused.
func (g *Guard) Check(ip netip.Addr) error {
	// Prefix.Contains never matches an address with a zone (fe80::1%eth0).
	ip = ip.Unmap().WithZone("")
	refuse := func(why string) error { return fmt.Errorf("%w: %s is %s", ErrDestinationRefused, ip, why) }
	if !ip.IsValid() {
		return refuse("not an IP address")
	}
	for _, p := range alwaysRefused {
		if p.Contains(ip) {
			return refuse("link-local, a metadata service or not a host address")
		}
	}
	for _, p := range g.Deny {
		if p.Contains(ip) {
			return refuse("in the deny list " + p.String())
		}
	}
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	if len(g.Allow) > 0 {
		return refuse("not in the allow list")
	}
	if g.DenyLoopback && ip.IsLoopback() {
		return refuse("a loopback address")
	}
	if g.DenyPrivate && ip.IsPrivate() {
		return refuse("a private address")
	}
	return nil
}

// Control is a net.Dialer.Control function that applies Check to the
// address being dialled.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(address)
		if splitErr != nil {
			return fmt.Errorf("%w: %q", ErrDestinationRefused, address)
		}
		ip, perr := netip.ParseAddr(host)
		if perr != nil {
			return fmt.Errorf("%w: %q", ErrDestinationRefused, address)
		}
		return g.Check(ip)
	}
	return g.Check(ap.Addr())
}

// ParsePrefixes parses CIDR networks ("10.0.0.0/8") and single addresses
// ("192.0.2.7"), for Guard lists given on a command line.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a network (CIDR) nor an address", s)
		}
		out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	return out, nil
}
