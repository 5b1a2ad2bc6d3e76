package sandbox_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// fuzzServer is a sandbox on SQLite, served in-process, with one location
// in a new company, some custom-field definitions and a location PIT with
// every scope.
type fuzzServer struct {
	st       sandbox.Store
	srv      *sandbox.Server
	loc, tok string
}

// newFuzzServer opens a store in f.TempDir() and sets it up; fields, if not
// nil, gives the custom-field definitions to create for the location.
func newFuzzServer(f *testing.F, fields func(loc string) []*sandbox.CustomField) *fuzzServer {
	f.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	srv, err := sandbox.NewServer(sandbox.Config{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	fs := &fuzzServer{st: st, srv: srv, loc: sandbox.NewID()}
	company := sandbox.NewID()
	err = st.Write(ctx, func(tx sandbox.Tx) error {
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindLocation, ID: fs.loc, LocationID: fs.loc, CompanyID: company}, &sandbox.Location{ID: fs.loc, CompanyID: company, Name: "Fuzz"}); err != nil {
			return err
		}
		if fields != nil {
			for _, def := range fields(fs.loc) {
				if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCustomField, ID: def.ID, LocationID: fs.loc, Key: def.FieldKey}, def); err != nil {
					return err
				}
			}
		}
		fs.tok, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, UserType: sandbox.UserTypeLocation, CompanyID: company, LocationID: fs.loc, Scopes: sandbox.AllScopes()}, time.Now())
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	return fs
}

// send serves one request with the location token and API version set.
func (fs *fuzzServer) send(method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fs.tok)
	req.Header.Set("Version", "2021-07-28")
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	fs.srv.ServeHTTP(rec, req)
	return rec
}
