package sandbox_test

import (
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

func TestGetCompany(t *testing.T) {
	e := newTestEnv(t)
	c := e.do("GET", "/companies/"+e.C1, e.TokC1, nil).mustStatus(t, 200).JSON(t)["company"].(map[string]any)
	if c["id"] != e.C1 || c["name"] != "Company "+e.C1[:4] || c["locationCount"] != float64(2) || c["customerType"] != "agency" {
		t.Errorf("company = %v", c)
	}
	// locationCount follows the agency's locations.
	e.do("POST", "/locations/", e.TokC1, map[string]any{"name": "Third", "companyId": e.C1}).mustStatus(t, 200)
	if c := e.do("GET", "/companies/"+e.C1, e.TokC1, nil).mustStatus(t, 200).JSON(t)["company"].(map[string]any); c["locationCount"] != float64(3) {
		t.Errorf("locationCount after create = %v", c["locationCount"])
	}
	if c := e.do("GET", "/companies/"+e.C2, e.TokC2, nil).mustStatus(t, 200).JSON(t)["company"].(map[string]any); c["id"] != e.C2 || c["locationCount"] != float64(1) {
		t.Errorf("C2 = %v", c)
	}
	wantError(t, e.do("GET", "/companies/"+e.C1, e.TokC2, nil), 403, "company")
	wantError(t, e.do("GET", "/companies/"+sandbox.NewID(), e.TokC1, nil), 403, "company")
	wantError(t, e.do("GET", "/companies/"+e.C1, e.TokL1, nil), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("GET", "/companies/"+e.C1, e.TokL1Read, nil), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("GET", "/companies/"+e.C1, issueToken(t, e, e.C1, "", "users.readonly"), nil), 401, sandbox.MsgScope)
}
