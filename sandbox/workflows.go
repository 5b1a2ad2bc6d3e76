package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// registerWorkflows wires the workflows namespace (apps/workflows.json).
//
// GHL's public API only lists workflows; they are built in its UI. In the
// sandbox they are KindWorkflow records (LocationID set) written by the demo
// seed, the admin API or the workflow engine, which may keep more in the
// document (triggers, actions) than the API shows.
func (s *Server) registerWorkflows() {
	s.handle("workflows", "get-workflow", s.listWorkflows)
}

// Workflow statuses GHL reports.
const (
	WorkflowDraft     = "draft"
	WorkflowPublished = "published"
)

// Workflow is an automation of a location, stored as a KindWorkflow record
// with LocationID set. The JSON names are those of the spec's WorkflowSchema.
type Workflow struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"` // WorkflowDraft or WorkflowPublished
	Version    int    `json:"version"`
	CreatedAt  Time   `json:"createdAt"`
	UpdatedAt  Time   `json:"updatedAt"`
	LocationID string `json:"locationId"`
}

// listWorkflows serves GET /workflows/?locationId → {workflows: [...]},
// oldest first. The pipeline has already checked that the token may use
// the location.
func (s *Server) listWorkflows(w http.ResponseWriter, r *Request) error {
	locID := strings.TrimSpace(r.Query("locationId"))
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	ctx := r.Context()
	var out []Workflow
	err := s.read(ctx, func(tx Tx) error {
		recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindWorkflow, LocationID: locID})
		if err != nil {
			return err
		}
		out = make([]Workflow, 0, len(recs))
		for _, rec := range recs {
			wf, err := workflowOf(rec)
			if err != nil {
				return err
			}
			out = append(out, wf)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"workflows": out})
	return nil
}

// workflowOf decodes a KindWorkflow record into the API's view. Records
// written by other components may omit the id, location, version or
// timestamps; the record's columns fill them, so the answer always has
// every field of WorkflowSchema with its documented type.
func workflowOf(rec *Record) (Workflow, error) {
	var wf Workflow
	if err := json.Unmarshal(rec.Data, &wf); err != nil {
		return wf, err
	}
	wf.ID = firstNonEmpty(wf.ID, rec.ID)
	wf.LocationID = firstNonEmpty(wf.LocationID, rec.LocationID)
	if wf.Status == "" {
		wf.Status = WorkflowDraft
	}
	if wf.Version == 0 {
		wf.Version = 1
	}
	if wf.CreatedAt.IsZero() {
		wf.CreatedAt = Time{rec.CreatedAt.UTC()}
	}
	if wf.UpdatedAt.IsZero() {
		wf.UpdatedAt = Time{rec.UpdatedAt.UTC()}
	}
	return wf, nil
}

// PutWorkflow stores a workflow of a location (inserting or replacing it),
// for the seed, the admin API and tests: GHL has no API to create one.
func PutWorkflow(ctx context.Context, tx Tx, companyID string, wf *Workflow) error {
	if wf.ID == "" {
		wf.ID = NewID()
	}
	if wf.CreatedAt.IsZero() {
		wf.CreatedAt = Now()
	}
	if wf.UpdatedAt.IsZero() {
		wf.UpdatedAt = wf.CreatedAt
	}
	rec := Record{Kind: KindWorkflow, ID: wf.ID, LocationID: wf.LocationID, CompanyID: companyID, CreatedAt: wf.CreatedAt.Time, UpdatedAt: wf.UpdatedAt.Time}
	return PutRecordOf(ctx, tx, rec, wf)
}
