package ghl

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// FlexString is a string field that GHL sends sometimes as a JSON string and
// sometimes as a number (dates as epoch milliseconds, for example). It
// decodes either, and encodes as a string.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = FlexString(v)
	default:
		*s = FlexString(b)
	}
	return nil
}

// FlexInt is an integer field that GHL declares as a string in some specs
// (skip, limit, counts) and as a number in others. It decodes either, and
// encodes as a number.
type FlexInt int

// UnmarshalJSON implements json.Unmarshaler.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*n = 0
			return nil
		}
		b = []byte(s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*n = FlexInt(f)
	return nil
}

// Bool returns a pointer to v, for optional boolean parameters.
func Bool(v bool) *bool { return &v }

// String returns a pointer to v, for optional string parameters.
func String(v string) *string { return &v }

// Int returns a pointer to v, for optional integer parameters.
func Int(v int) *int { return &v }

// DNDSettings holds a contact's do-not-disturb state per channel.
type DNDSettings struct {
	Call     *DNDSetting `json:"Call,omitempty"`
	Email    *DNDSetting `json:"Email,omitempty"`
	SMS      *DNDSetting `json:"SMS,omitempty"`
	WhatsApp *DNDSetting `json:"WhatsApp,omitempty"`
	GMB      *DNDSetting `json:"GMB,omitempty"`
	FB       *DNDSetting `json:"FB,omitempty"`
}

// DNDSetting is one channel's do-not-disturb state; Status is "active",
// "inactive" or "permanent".
type DNDSetting struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Code    string `json:"code,omitempty"`
}

// InboundDNDSettings holds the do-not-disturb state for inbound messages.
type InboundDNDSettings struct {
	All *InboundDNDSetting `json:"all,omitempty"`
}

// InboundDNDSetting is the inbound do-not-disturb state; Status is "active"
// or "inactive".
type InboundDNDSetting struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// AttributionSource tells where a contact came from.
type AttributionSource struct {
	URL        string `json:"url,omitempty"`
	Campaign   string `json:"campaign,omitempty"`
	UTMSource  string `json:"utmSource,omitempty"`
	UTMMedium  string `json:"utmMedium,omitempty"`
	UTMContent string `json:"utmContent,omitempty"`
	Referrer   string `json:"referrer,omitempty"`
	CampaignID string `json:"campaignId,omitempty"`
	FBCLID     string `json:"fbclid,omitempty"`
	GCLID      string `json:"gclid,omitempty"`
	MSCLKID    string `json:"msclikid,omitempty"`
	DCLID      string `json:"dclid,omitempty"`
	FBC        string `json:"fbc,omitempty"`
	FBP        string `json:"fbp,omitempty"`
	FBEventID  string `json:"fbEventId,omitempty"`
	UserAgent  string `json:"userAgent,omitempty"`
	IP         string `json:"ip,omitempty"`
	Medium     string `json:"medium,omitempty"`
	MediumID   string `json:"mediumId,omitempty"`
}

// StringList is a list of strings that GHL sometimes sends as a single
// string. It decodes a JSON string, an array of strings or an array of other
// values (printed), and encodes as an array.
type StringList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *StringList) UnmarshalJSON(b []byte) error {
	*l = stringOrStrings(b)
	return nil
}
