package ghl

import "context"

// UserTypeLocation and UserTypeCompany are GHL's names (the OAuth user_type)
// for the two kinds of resource a token, a rate limit and a request belong to:
// a sub-account (location) and an agency (company).
const (
	UserTypeLocation = "Location"
	UserTypeCompany  = "Company"
)

// Resource is the location or company a request acts on. GHL's rate limits
// are kept per resource, and OAuth tokens are issued per resource.
type Resource struct {
	UserType string // UserTypeLocation or UserTypeCompany
	ID       string
}

// Key returns "Location:<id>" or "Company:<id>", or "" for the zero Resource.
// Limiters use it as their key.
func (r Resource) Key() string {
	if r.ID == "" {
		return ""
	}
	return r.UserType + ":" + r.ID
}

type resourceKey struct{}

// WithLocation returns a context whose requests act on the location
// (sub-account) locationID: the limiter spends that location's budget and the
// token source is asked for that location's token. Service methods whose
// parameters name a location set it themselves; use WithLocation for those
// that don't, such as Contacts.Get.
func WithLocation(ctx context.Context, locationID string) context.Context {
	return context.WithValue(ctx, resourceKey{}, Resource{UserType: UserTypeLocation, ID: locationID})
}

// WithCompany returns a context whose requests act on the company (agency)
// companyID, as [WithLocation] does for a location.
func WithCompany(ctx context.Context, companyID string) context.Context {
	return context.WithValue(ctx, resourceKey{}, Resource{UserType: UserTypeCompany, ID: companyID})
}

// ResourceFrom returns the resource recorded in ctx, or the zero Resource.
func ResourceFrom(ctx context.Context) Resource {
	r, _ := ctx.Value(resourceKey{}).(Resource)
	return r
}

type idempotentKey struct{}

// WithIdempotent returns a context whose POST, PUT and PATCH requests the
// retry layer may repeat after a timeout, a reset connection or a 5xx, as it
// does for GET and DELETE. Use it only when repeating the call is harmless,
// e.g. an upsert.
func WithIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

func isMarkedIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}
