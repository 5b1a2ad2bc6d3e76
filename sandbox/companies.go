package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// registerCompanies wires the companies namespace (apps/companies.json).
func (s *Server) registerCompanies() {
	s.handle("companies", "get-company", s.getCompany)
}

// companyView is GetCompanyByIdSchema: the stored Company plus the fields
// GHL derives (locationCount) and fixed facts about a sandbox agency.
type companyView struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Email               string   `json:"email,omitempty"`
	Phone               string   `json:"phone,omitempty"`
	Website             string   `json:"website,omitempty"`
	Address             string   `json:"address,omitempty"`
	City                string   `json:"city,omitempty"`
	State               string   `json:"state,omitempty"`
	Country             string   `json:"country,omitempty"`
	PostalCode          string   `json:"postalCode,omitempty"`
	Timezone            string   `json:"timezone,omitempty"`
	Plan                *float64 `json:"plan,omitempty"` // a number in GHL's schema
	CustomerType        string   `json:"customerType"`
	Status              string   `json:"status"`
	LocationCount       int      `json:"locationCount"`
	IsReselling         bool     `json:"isReselling"`
	IsSandboxAccount    bool     `json:"isSandboxAccount"`
	IsEnterpriseAccount bool     `json:"isEnterpriseAccount"`
	DateAdded           Time     `json:"dateAdded"`
}

// getCompany serves GET /companies/{companyId} (agency) → {company}. The
// pipeline has already checked that the token belongs to the company.
func (s *Server) getCompany(w http.ResponseWriter, r *Request) error {
	id := r.PathParam("companyId")
	var view *companyView
	err := s.read(r.Context(), func(tx Tx) error {
		rec, err := tx.GetRecord(r.Context(), KindCompany, id)
		if err != nil {
			if IsNotFound(err) {
				return Errorf(ENOTFOUND, "Company not found")
			}
			return err
		}
		var c Company
		if err := json.Unmarshal(rec.Data, &c); err != nil {
			return err
		}
		n, err := tx.CountRecords(r.Context(), RecordQuery{Kind: KindLocation, CompanyID: id})
		if err != nil {
			return err
		}
		view = &companyView{
			ID: firstNonEmpty(c.ID, rec.ID), Name: c.Name, Email: c.Email, Phone: c.Phone, Website: c.Website,
			Address: c.Address, City: c.City, State: c.State, Country: c.Country, Timezone: c.Timezone,
			CustomerType: "agency", Status: "active", LocationCount: n, IsSandboxAccount: true, DateAdded: c.DateAdded,
		}
		if p, err := strconv.ParseFloat(c.Plan, 64); err == nil {
			view.Plan = &p
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.CheckCompany(view.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"company": view})
	return nil
}
