package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// registerCampaigns wires the campaigns namespace (apps/campaigns.json).
//
// Campaigns (GHL's legacy drip sequences) can only be listed through the
// public API. In the sandbox they are KindCampaign records (LocationID set)
// written by the demo seed or the admin API; contacts are added to them
// through the contacts namespace.
func (s *Server) registerCampaigns() {
	s.handle("campaigns", "get-campaigns", s.listCampaigns)
}

// Campaign statuses GHL reports.
const (
	CampaignDraft     = "draft"
	CampaignPublished = "published"
)

// Campaign is a campaign of a location, stored as a KindCampaign record with
// LocationID set. The JSON names are those of the spec's campaignsSchema.
type Campaign struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"` // CampaignDraft or CampaignPublished
	LocationID string `json:"locationId"`
}

// listCampaigns serves GET /campaigns/?locationId&status →
// {campaigns: [...]}, oldest first; status, when given, keeps the campaigns
// with that status (compared case-insensitively).
func (s *Server) listCampaigns(w http.ResponseWriter, r *Request) error {
	locID := strings.TrimSpace(r.Query("locationId"))
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	status := strings.TrimSpace(r.Query("status"))
	ctx := r.Context()
	var out []Campaign
	err := s.read(ctx, func(tx Tx) error {
		recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindCampaign, LocationID: locID})
		if err != nil {
			return err
		}
		out = make([]Campaign, 0, len(recs))
		for _, rec := range recs {
			var c Campaign
			if err := json.Unmarshal(rec.Data, &c); err != nil {
				return err
			}
			c.ID = firstNonEmpty(c.ID, rec.ID)
			c.LocationID = firstNonEmpty(c.LocationID, rec.LocationID)
			if c.Status == "" {
				c.Status = CampaignDraft
			}
			if status != "" && !strings.EqualFold(c.Status, status) {
				continue
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": out})
	return nil
}

// PutCampaign stores a campaign of a location (inserting or replacing it),
// for the seed, the admin API and tests: GHL has no API to create one.
func PutCampaign(ctx context.Context, tx Tx, companyID string, c *Campaign) error {
	if c.ID == "" {
		c.ID = NewID()
	}
	return PutRecordOf(ctx, tx, Record{Kind: KindCampaign, ID: c.ID, LocationID: c.LocationID, CompanyID: companyID}, c)
}
