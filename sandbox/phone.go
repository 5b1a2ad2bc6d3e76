package sandbox

import (
	"errors"
	"strings"
)

// ErrInvalidPhone is returned by NormalizePhone for input that is not a
// phone number of a known shape.
var ErrInvalidPhone = errors.New("invalid phone number")

// DefaultPhoneCountry is the country assumed for national phone numbers when
// neither the contact nor its location names one, as GHL does.
const DefaultPhoneCountry = "US"

// phoneCountry is the numbering plan of one country: its calling code, the
// national trunk prefix dialled before national numbers (stripped when
// normalising) and the lengths of its national significant numbers.
type phoneCountry struct {
	code     string
	trunk    string
	min, max int
}

// phoneCountries covers the countries GHL's customers mostly dial. It is not
// libphonenumber: lengths are the plan's bounds, not per-range rules, so a
// number of a plausible length is accepted. Countries missing here still
// work in international form (+CC…), checked only against E.164's bounds.
var phoneCountries = map[string]phoneCountry{
	// North American Numbering Plan: +1, trunk 1, ten digits.
	"US": {"1", "1", 10, 10}, "CA": {"1", "1", 10, 10}, "PR": {"1", "1", 10, 10},
	"AG": {"1", "1", 10, 10}, "AI": {"1", "1", 10, 10}, "AS": {"1", "1", 10, 10},
	"BB": {"1", "1", 10, 10}, "BM": {"1", "1", 10, 10}, "BS": {"1", "1", 10, 10},
	"DM": {"1", "1", 10, 10}, "DO": {"1", "1", 10, 10}, "GD": {"1", "1", 10, 10},
	"GU": {"1", "1", 10, 10}, "JM": {"1", "1", 10, 10}, "KN": {"1", "1", 10, 10},
	"KY": {"1", "1", 10, 10}, "LC": {"1", "1", 10, 10}, "MP": {"1", "1", 10, 10},
	"MS": {"1", "1", 10, 10}, "SX": {"1", "1", 10, 10}, "TC": {"1", "1", 10, 10},
	"TT": {"1", "1", 10, 10}, "VC": {"1", "1", 10, 10}, "VG": {"1", "1", 10, 10},
	"VI": {"1", "1", 10, 10},

	"RU": {"7", "8", 10, 10}, "KZ": {"7", "8", 10, 10},
	"EG": {"20", "0", 8, 10}, "ZA": {"27", "0", 9, 9},
	"GR": {"30", "", 10, 10}, "NL": {"31", "0", 9, 9}, "BE": {"32", "0", 8, 9},
	"FR": {"33", "0", 9, 9}, "ES": {"34", "", 9, 9}, "HU": {"36", "06", 8, 9},
	// Italy keeps the leading 0 of landlines in international form.
	"IT": {"39", "", 6, 11}, "VA": {"39", "", 6, 11},
	"RO": {"40", "0", 9, 9}, "CH": {"41", "0", 9, 9}, "AT": {"43", "0", 4, 13},
	"GB": {"44", "0", 7, 10}, "GG": {"44", "0", 7, 10}, "JE": {"44", "0", 7, 10}, "IM": {"44", "0", 7, 10},
	"DK": {"45", "", 8, 8}, "SE": {"46", "0", 7, 10}, "NO": {"47", "", 8, 8},
	"PL": {"48", "", 9, 9}, "DE": {"49", "0", 5, 13},
	"PE": {"51", "0", 8, 9}, "MX": {"52", "", 10, 10}, "CU": {"53", "0", 8, 8},
	"AR": {"54", "0", 10, 11}, "BR": {"55", "0", 10, 11}, "CL": {"56", "", 9, 9},
	"CO": {"57", "", 8, 10}, "VE": {"58", "0", 10, 10},
	"MY": {"60", "0", 8, 10}, "AU": {"61", "0", 9, 9}, "ID": {"62", "0", 8, 12},
	"PH": {"63", "0", 8, 10}, "NZ": {"64", "0", 8, 10}, "SG": {"65", "", 8, 8},
	"TH": {"66", "0", 8, 9},
	"JP": {"81", "0", 9, 10}, "KR": {"82", "0", 8, 10}, "VN": {"84", "0", 9, 10},
	"CN": {"86", "0", 9, 11}, "TR": {"90", "0", 10, 10}, "IN": {"91", "0", 10, 10},
	"PK": {"92", "0", 9, 10}, "AF": {"93", "0", 9, 9}, "LK": {"94", "0", 9, 9},
	"MM": {"95", "0", 8, 10}, "IR": {"98", "0", 10, 10},
	"MA": {"212", "0", 9, 9}, "DZ": {"213", "0", 8, 9}, "TN": {"216", "", 8, 8},
	"LY": {"218", "0", 9, 9}, "SN": {"221", "", 9, 9}, "CI": {"225", "", 10, 10},
	"GH": {"233", "0", 9, 9}, "NG": {"234", "0", 8, 10}, "CM": {"237", "", 9, 9},
	"ET": {"251", "0", 9, 9}, "KE": {"254", "0", 9, 9}, "TZ": {"255", "0", 9, 9},
	"UG": {"256", "0", 9, 9}, "RW": {"250", "", 9, 9}, "ZM": {"260", "0", 9, 9},
	"ZW": {"263", "0", 9, 9},
	"PT": {"351", "", 9, 9}, "LU": {"352", "", 4, 11}, "IE": {"353", "0", 7, 9},
	"IS": {"354", "", 7, 7}, "AL": {"355", "0", 8, 9}, "MT": {"356", "", 8, 8},
	"CY": {"357", "", 8, 8}, "FI": {"358", "0", 5, 12}, "BG": {"359", "0", 8, 9},
	"LT": {"370", "8", 8, 8}, "LV": {"371", "", 8, 8}, "EE": {"372", "", 7, 8},
	"UA": {"380", "0", 9, 9}, "RS": {"381", "0", 8, 9}, "HR": {"385", "0", 8, 9},
	"SI": {"386", "0", 8, 8}, "BA": {"387", "0", 8, 8}, "CZ": {"420", "", 9, 9},
	"SK": {"421", "0", 9, 9},
	"GT": {"502", "", 8, 8}, "SV": {"503", "", 8, 8}, "HN": {"504", "", 8, 8},
	"NI": {"505", "", 8, 8}, "CR": {"506", "", 8, 8}, "PA": {"507", "", 7, 8},
	"BO": {"591", "0", 8, 8}, "EC": {"593", "0", 8, 9}, "PY": {"595", "0", 9, 9},
	"UY": {"598", "0", 8, 8},
	"HK": {"852", "", 8, 8}, "MO": {"853", "", 8, 8}, "KH": {"855", "0", 8, 9},
	"BD": {"880", "0", 10, 10}, "TW": {"886", "0", 8, 9},
	"LB": {"961", "0", 7, 8}, "JO": {"962", "0", 8, 9}, "KW": {"965", "", 8, 8},
	"SA": {"966", "0", 9, 9}, "OM": {"968", "", 8, 8}, "AE": {"971", "0", 8, 9},
	"IL": {"972", "0", 8, 9}, "BH": {"973", "", 8, 8}, "QA": {"974", "", 8, 8},
	"NP": {"977", "0", 8, 10},
}

// callingCodeLengths maps each calling code of phoneCountries to the widest
// national length range of the countries sharing it.
var callingCodeLengths = func() map[string][2]int {
	m := map[string][2]int{}
	for _, c := range phoneCountries {
		r, ok := m[c.code]
		if !ok {
			r = [2]int{c.min, c.max}
		}
		r[0], r[1] = min(r[0], c.min), max(r[1], c.max)
		m[c.code] = r
	}
	return m
}()

// PhoneCountryKnown reports whether NormalizePhone knows the numbering plan
// of an ISO 3166 alpha-2 country code.
func PhoneCountryKnown(country string) bool {
	_, ok := phoneCountries[strings.ToUpper(strings.TrimSpace(country))]
	return ok
}

// NormalizePhone returns raw in E.164 form ("+14155551234"). International
// input ("+44 20 7946 0958", "0044 20…", "011 44…" from a NANP country) keeps
// its country; national input ("(415) 555-1234", "020 7946 0958") is read in
// defaultCountry's plan (ISO alpha-2; unknown or empty means US), its trunk
// prefix dropped. Spaces, dashes, dots, slashes and parentheses are ignored;
// letters, extensions and numbers of impossible length are ErrInvalidPhone.
func NormalizePhone(raw, defaultCountry string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" || len(s) > 64 {
		return "", ErrInvalidPhone
	}
	plus := false
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			digits = append(digits, ch)
		case ch == '+':
			// Only as the first significant character.
			if plus || len(digits) > 0 {
				return "", ErrInvalidPhone
			}
			plus = true
		case ch == ' ' || ch == '-' || ch == '.' || ch == '(' || ch == ')' || ch == '/' || ch == '\t':
		default:
			return "", ErrInvalidPhone
		}
	}
	country, ok := phoneCountries[strings.ToUpper(strings.TrimSpace(defaultCountry))]
	if !ok {
		country = phoneCountries[DefaultPhoneCountry]
	}
	d := string(digits)
	switch {
	case plus:
		return phoneInternational(d)
	case strings.HasPrefix(d, "00"):
		return phoneInternational(d[2:])
	case country.code == "1" && strings.HasPrefix(d, "011"):
		return phoneInternational(d[3:])
	}
	// A national number; NANP numbers may also arrive with their 1 prefix.
	if country.trunk != "" && strings.HasPrefix(d, country.trunk) && len(d)-len(country.trunk) >= country.min {
		d = d[len(country.trunk):]
	}
	if len(d) < country.min || len(d) > country.max {
		return "", ErrInvalidPhone
	}
	// The international check as well, so a normalised number normalises to
	// itself.
	return phoneInternational(country.code + d)
}

// phoneInternational validates digits that follow a "+" (calling code first).
func phoneInternational(d string) (string, error) {
	// E.164: at most 15 digits; the shortest numbers in service (small
	// islands) have 7 with their calling code.
	if len(d) < 7 || len(d) > 15 || d[0] == '0' {
		return "", ErrInvalidPhone
	}
	for n := 1; n <= 3; n++ {
		r, ok := callingCodeLengths[d[:n]]
		if !ok {
			continue
		}
		national := d[n:]
		if len(national) < r[0] || len(national) > r[1] || !phoneValidNational(d[:n], national) {
			return "", ErrInvalidPhone
		}
		return "+" + d, nil
	}
	// A calling code this table lacks: E.164's bounds are all we check.
	return "+" + d, nil
}

// phoneValidNational applies the few structural rules worth knowing: NANP area
// codes never start with 0 or 1.
func phoneValidNational(code, national string) bool {
	if code == "1" {
		return national[0] >= '2'
	}
	return true
}
