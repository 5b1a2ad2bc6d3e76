package ghl

import (
	"context"
	"errors"
	"slices"

	"golang.org/x/sync/errgroup"
)

// FindOrCreate returns the contact of p.LocationID with p's email, else the
// one with p's phone number (GET /contacts/search/duplicate, which follows
// the location's duplicate settings), else a contact newly created from p.
// created reports which. p needs an email or a phone.
//
// Two concurrent calls for the same new person can both create a contact;
// where that matters, use Upsert in a location that disallows duplicates.
func (s *ContactsService) FindOrCreate(ctx context.Context, p CreateContactParams) (c *Contact, created bool, err error) {
	if p.Email == "" && p.Phone == "" {
		return nil, false, errors.New("ghl: FindOrCreate needs an email or a phone")
	}
	if p.LocationID == "" {
		return nil, false, errNoLocation("FindOrCreate")
	}
	if p.Email != "" {
		c, err := s.GetDuplicate(ctx, DuplicateContactParams{LocationID: p.LocationID, Email: p.Email})
		if err != nil || c != nil {
			return c, false, err
		}
	}
	if p.Phone != "" {
		c, err := s.GetDuplicate(ctx, DuplicateContactParams{LocationID: p.LocationID, Number: p.Phone})
		if err != nil || c != nil {
			return c, false, err
		}
	}
	c, err = s.Create(ctx, p)
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// SetCustomFields sets custom fields of a contact, each named by field key
// ("contact.pincode" or "pincode") or id, to the given values. The contact's
// location comes from ctx (WithLocation) or the client's default location;
// it is needed to resolve keys.
//
// GHL API: PUT /contacts/{contactId}
func (s *ContactsService) SetCustomFields(ctx context.Context, contactID string, values map[string]any) (*Contact, error) {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a stable body, for logs and tests
	fields := make([]CustomFieldValue, 0, len(keys))
	for _, k := range keys {
		fields = append(fields, CustomFieldValue{Key: k, Value: values[k]})
	}
	return s.Update(ctx, contactID, UpdateContactParams{CustomFields: fields})
}

// BulkUpsertOptions tune [ContactsService.BulkUpsert].
type BulkUpsertOptions struct {
	// Concurrency is the number of upserts in flight; default 4.
	Concurrency int
	// BatchSize is the number of contacts per batch; default 50. Between
	// batches OnBatch reports progress and the run stops if the context is
	// done or GHL's daily budget is spent.
	BatchSize int
	// OnBatch, if set, is called after each batch with the number of
	// contacts done so far and the total.
	OnBatch func(done, total int)
}

// BulkUpsertResult is the outcome of one contact of a bulk upsert.
type BulkUpsertResult struct {
	Index  int // position in the input
	Result *UpsertContactResult
	Err    error
}

// BulkUpsert upserts many contacts, Concurrency at a time, in batches. GHL
// has no bulk upsert endpoint, so this is one POST /contacts/upsert per
// contact; every call goes through the client's rate limiter, which paces
// the run to each location's budget (and, with a shared limiter, to the
// budget other processes leave). Custom field keys are resolved once per
// location through the client's cache.
//
// Each contact's outcome is in the result at its index. The error is
// non-nil only when the run stopped early, because ctx was done or the
// daily budget is spent ([ErrRateLimited]); contacts not attempted then
// carry that error.
func (s *ContactsService) BulkUpsert(ctx context.Context, contacts []UpsertContactParams, opts *BulkUpsertOptions) ([]BulkUpsertResult, error) {
	var o BulkUpsertOptions
	if opts != nil {
		o = *opts
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 50
	}
	results := make([]BulkUpsertResult, len(contacts))
	for i := range results {
		results[i].Index = i
	}
	var stop error
	for start := 0; start < len(contacts); start += o.BatchSize {
		end := min(start+o.BatchSize, len(contacts))
		if stop == nil {
			stop = s.upsertBatch(ctx, contacts, results, start, end, o.Concurrency)
		}
		if stop != nil {
			for i := start; i < end; i++ {
				if results[i].Result == nil && results[i].Err == nil {
					results[i].Err = stop
				}
			}
			continue
		}
		if o.OnBatch != nil {
			o.OnBatch(end, len(contacts))
		}
	}
	return results, stop
}

// upsertBatch runs one batch and returns an error only if the whole run
// must stop.
func (s *ContactsService) upsertBatch(ctx context.Context, contacts []UpsertContactParams, results []BulkUpsertResult, start, end, concurrency int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i := start; i < end; i++ {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			r, err := s.Upsert(gctx, contacts[i])
			results[i].Result, results[i].Err = r, err
			var rle *RateLimitError
			if errors.As(err, &rle) && rle.Daily {
				return err // cancels the rest of the batch
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
