package ghl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/ghlkit/ghlkit/ghl/oauth"
)

// fakeGHL stands in for GHL (or the ghlkit sandbox) so that the examples
// run: 5 contacts, upsert, search with a searchAfter cursor, and OAuth.
func fakeGHL() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /contacts/upsert", func(w http.ResponseWriter, r *http.Request) {
		var p ghl.UpsertContactParams
		json.NewDecoder(r.Body).Decode(&p)
		fmt.Fprintf(w, `{"new":true,"contact":{"id":"c-new","email":%q,"tags":%q},"traceId":"t1"}`, p.Email, p.Tags)
	})
	mux.HandleFunc("POST /contacts/search", func(w http.ResponseWriter, r *http.Request) {
		var p ghl.SearchContactsParams
		json.NewDecoder(r.Body).Decode(&p)
		start := 0
		if len(p.SearchAfter) > 0 {
			var cursor []int
			json.Unmarshal(p.SearchAfter, &cursor)
			start = cursor[0] + 1
		}
		var contacts []map[string]any
		for i := start; i < min(start+p.PageLimit, 5); i++ {
			contacts = append(contacts, map[string]any{"id": "c" + strconv.Itoa(i), "firstName": "Contact " + strconv.Itoa(i), "searchAfter": []int{i}})
		}
		json.NewEncoder(w).Encode(map[string]any{"contacts": contacts, "total": 5})
	})
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"access_token":"fresh","token_type":"Bearer","expires_in":86399,"refresh_token":"r2","userType":"Location","locationId":"loc1"}`)
	})
	mux.HandleFunc("GET /locations/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"location":{"id":%q,"name":"Dentist"}}`, r.PathValue("id"))
	})
	return httptest.NewServer(mux)
}

// A client with a sub-account's Private Integration Token upserts a contact.
func Example_privateIntegrationToken() {
	srv := fakeGHL() // in production: leave out WithBaseURL
	defer srv.Close()

	c, err := ghl.NewClient(
		ghl.WithBaseURL(srv.URL),
		ghl.WithPrivateIntegrationToken("pit-xxxxxxxx"),
	)
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Contacts.Upsert(context.Background(), ghl.UpsertContactParams{
		CreateContactParams: ghl.CreateContactParams{
			LocationID: "ve9EPM428h8vShlRW1KT",
			Email:      "ann@example.com",
			Tags:       []string{"webshop"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.New, res.Contact.ID, res.Contact.Email, res.Contact.Tags)
	// Output: true c-new ann@example.com [webshop]
}

// Iterating over every contact of a location: SearchIter pages through
// POST /contacts/search with its searchAfter cursor.
func ExampleContactsService_SearchIter() {
	srv := fakeGHL()
	defer srv.Close()
	c, _ := ghl.NewClient(ghl.WithBaseURL(srv.URL), ghl.WithPrivateIntegrationToken("pit-xxxxxxxx"))

	params := ghl.SearchContactsParams{LocationID: "loc1", PageLimit: 2}
	for contact, err := range c.Contacts.SearchIter(context.Background(), params) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(contact.ID, contact.FirstName)
	}
	// Output:
	// c0 Contact 0
	// c1 Contact 1
	// c2 Contact 2
	// c3 Contact 3
	// c4 Contact 4
}

// A Marketplace app calls GHL with OAuth tokens kept per location in a
// store (use oauth.NewSQLStore in production). The stored token has
// expired, so the first call refreshes it.
func Example_oauthTokenSource() {
	srv := fakeGHL()
	defer srv.Close()

	cfg := &oauth.Config{ClientID: "app-client-id", ClientSecret: "app-secret", BaseURL: srv.URL}
	store := oauth.NewMemoryStore()
	store.Put(context.Background(), oauth.Key{UserType: oauth.UserTypeLocation, ID: "loc1"}, &oauth.Token{
		AccessToken: "stale", RefreshToken: "r1", UserType: "Location", LocationID: "loc1",
		Expiry: time.Now().Add(-time.Hour),
	})
	tokens := oauth.NewTokenSource(cfg, store)
	tokens.OnRefreshError = func(locationID string, err error) {
		log.Printf("location %s must reinstall the app: %v", locationID, err)
	}

	c, err := ghl.NewClient(ghl.WithBaseURL(srv.URL), ghl.WithTokenSource(tokens))
	if err != nil {
		log.Fatal(err)
	}
	loc, err := c.Locations.Get(context.Background(), "loc1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loc.ID, loc.Name)
	// Output: loc1 Dentist
}
