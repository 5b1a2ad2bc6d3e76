package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// BenchData describes the contacts Seed created.
type BenchData struct {
	LocationID string
	IDs        []string
	Emails     []string
	// Tags are the tags Seed spread evenly: each is on len(IDs)/len(Tags)
	// contacts.
	Tags []string
}

// benchTags is how many tags Seed spreads (each on 1% of contacts).
const benchTags = 100

// BulkInserter is implemented by the Tx of stores that insert many contacts
// in a few statements (the SQL stores' do). Seed uses it when present.
type BulkInserter interface {
	InsertContacts(ctx context.Context, cs []*sandbox.Contact) error
}

// Seed inserts n contacts into one new location, in one transaction (in
// batches, through BulkInserter when the Tx has it), and returns what it
// created. Each contact has a unique email and phone, two
// tags (one of benchTags spread evenly, one of ten), a custom value and an
// address: a plausible row, not a minimal one.
func Seed(tb testing.TB, s sandbox.Store, n int) *BenchData {
	tb.Helper()
	ctx := context.Background()
	d := &BenchData{LocationID: sandbox.NewID()}
	for i := range benchTags {
		d.Tags = append(d.Tags, fmt.Sprintf("segment-%02d", i))
	}
	firsts := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "John"}
	lasts := []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen", "Backus"}
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	err := s.Write(ctx, func(tx sandbox.Tx) error {
		var batch []*sandbox.Contact
		flush := func() error {
			var err error
			if bulk, ok := tx.(BulkInserter); ok {
				err = bulk.InsertContacts(ctx, batch)
			} else {
				for _, c := range batch {
					if err = tx.InsertContact(ctx, c); err != nil {
						break
					}
				}
			}
			batch = batch[:0]
			return err
		}
		for i := range n {
			c := &sandbox.Contact{
				ID: sandbox.NewID(), LocationID: d.LocationID,
				FirstName: firsts[i%len(firsts)], LastName: lasts[(i/len(firsts))%len(lasts)],
				Email:       fmt.Sprintf("user%06d@example.com", i),
				Phone:       fmt.Sprintf("+1555%07d", i),
				CompanyName: fmt.Sprintf("Company %d", i%997),
				Address1:    fmt.Sprintf("%d Main Street", i%1000), City: "Springfield", State: "IL",
				Country: "US", PostalCode: "62701", Source: "import", Type: "lead",
				Tags:         []string{d.Tags[i%benchTags], fmt.Sprintf("cohort-%d", i%10)},
				CustomFields: []sandbox.CustomFieldValue{{ID: "score", Value: float64(i % 100)}},
				DateAdded:    sandbox.Time{Time: base.Add(time.Duration(i) * time.Minute)},
				DateUpdated:  sandbox.Time{Time: base.Add(time.Duration(i) * time.Minute)},
			}
			c.Name = c.FirstName + " " + c.LastName
			d.IDs = append(d.IDs, c.ID)
			d.Emails = append(d.Emails, c.Email)
			if batch = append(batch, c); len(batch) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		tb.Fatalf("seed: %v", err)
	}
	tb.Logf("seeded %d contacts in %v", n, time.Since(start).Round(time.Millisecond))
	return d
}

// readAsServer runs fn as the sandbox's hot handlers do: a loose read when
// the store has them (see sandbox.LooseReader), else a Read.
func readAsServer(ctx context.Context, s sandbox.Store, fn func(sandbox.Tx) error) error {
	if lr, ok := s.(sandbox.LooseReader); ok {
		return lr.ReadLoose(ctx, fn)
	}
	return s.Read(ctx, fn)
}

// BenchGetContact measures GetContactJSON of a random contact, read as GET
// /contacts/{id} reads it, from GOMAXPROCS goroutines.
func BenchGetContact(b *testing.B, s sandbox.Store, d *BenchData) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		for pb.Next() {
			id := d.IDs[r.IntN(len(d.IDs))]
			err := readAsServer(ctx, s, func(tx sandbox.Tx) error {
				_, _, err := tx.GetContactJSON(ctx, id)
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchSearchByEmail measures a JSON SearchContacts with an email eq filter
// (one match; first page of 20 with its total), as POST /contacts/search
// does, from GOMAXPROCS goroutines.
func BenchSearchByEmail(b *testing.B, s sandbox.Store, d *BenchData) {
	benchSearch(b, s, d, func(r *rand.Rand) (*sandbox.Filter, int) {
		return &sandbox.Filter{Field: "email", Operator: sandbox.OpEq, Value: d.Emails[r.IntN(len(d.Emails))]}, 1
	})
}

// BenchSearchByTag measures a JSON SearchContacts with a tag eq filter that
// matches 1% of the location's contacts (first page of 20, sorted by
// dateAdded, with the total), from GOMAXPROCS goroutines.
func BenchSearchByTag(b *testing.B, s sandbox.Store, d *BenchData) {
	benchSearch(b, s, d, func(r *rand.Rand) (*sandbox.Filter, int) {
		return &sandbox.Filter{Field: "tags", Operator: sandbox.OpEq, Value: d.Tags[r.IntN(len(d.Tags))]}, len(d.IDs) / len(d.Tags)
	})
}

func benchSearch(b *testing.B, s sandbox.Store, d *BenchData, filter func(*rand.Rand) (*sandbox.Filter, int)) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 2))
		for pb.Next() {
			f, total := filter(r)
			err := readAsServer(ctx, s, func(tx sandbox.Tx) error {
				p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: d.LocationID, Filter: f, Limit: 20, JSON: true})
				if err != nil {
					return err
				}
				if p.Total != total || len(p.JSON) != min(total, 20) {
					return fmt.Errorf("search %v: %d contacts, total %d; want total %d", f.Value, len(p.JSON), p.Total, total)
				}
				return nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
