package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// registerPipelines wires the read side of opportunity pipelines
// (apps/opportunities.json, get-pipelines). GHL's public API can only list
// pipelines; they are built in its UI. In the sandbox they are KindPipeline
// records (LocationID set) written by the demo seed, the admin API or tests
// (PutPipeline). The opportunities themselves register in their own file.
func (s *Server) registerPipelines() {
	s.handle("opportunities", "get-pipelines", s.listPipelines)
}

// Pipeline is a sales pipeline of a location, stored as a KindPipeline
// record with LocationID set. The JSON names are those of the spec's
// PipelinesResponseSchema.
type Pipeline struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Stages         []PipelineStage `json:"stages"`
	LocationID     string          `json:"locationId"`
	ShowInFunnel   bool            `json:"showInFunnel"`
	ShowInPieChart bool            `json:"showInPieChart"`
	// ColorRenderMode is "dot", "bg-tint" or "none"; empty leaves it out.
	ColorRenderMode string `json:"colorRenderMode,omitempty"`
}

// PipelineStage is a stage of a pipeline. The spec leaves the stage items
// untyped; these are the fields GHL answers for each stage.
type PipelineStage struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Position int    `json:"position"`
}

// Stage returns the pipeline's stage with the id, or nil.
func (p *Pipeline) Stage(id string) *PipelineStage {
	for i := range p.Stages {
		if p.Stages[i].ID == id {
			return &p.Stages[i]
		}
	}
	return nil
}

// listPipelines serves GET /opportunities/pipelines?locationId →
// {pipelines: [...]}, oldest first, each with its stages by position. The
// pipeline has already checked that the token may use the location.
func (s *Server) listPipelines(w http.ResponseWriter, r *Request) error {
	locID := strings.TrimSpace(r.Query("locationId"))
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	ctx := r.Context()
	var out []Pipeline
	err := s.read(ctx, func(tx Tx) error {
		var err error
		out, err = ListPipelines(ctx, tx, locID)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"pipelines": out})
	return nil
}

// ListPipelines returns a location's pipelines in the API's view, oldest
// first (never nil).
func ListPipelines(ctx context.Context, tx Tx, locationID string) ([]Pipeline, error) {
	recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindPipeline, LocationID: locationID})
	if err != nil {
		return nil, err
	}
	out := make([]Pipeline, 0, len(recs))
	for _, rec := range recs {
		p, err := pipelineOf(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// GetPipeline loads a pipeline by id: ENOTFOUND "Pipeline not found" when
// there is none. Callers check its LocationID against the caller.
func GetPipeline(ctx context.Context, tx Tx, id string) (*Pipeline, error) {
	rec, err := tx.GetRecord(ctx, KindPipeline, id)
	if err != nil {
		if IsNotFound(err) {
			return nil, Errorf(ENOTFOUND, "Pipeline not found")
		}
		return nil, err
	}
	return pipelineOf(rec)
}

// pipelineOf decodes a KindPipeline record into the API's view: the
// record's columns fill a missing id or location, stages are ordered by
// position, and absent lists are empty rather than null.
func pipelineOf(rec *Record) (*Pipeline, error) {
	p := new(Pipeline)
	if err := json.Unmarshal(rec.Data, p); err != nil {
		return nil, err
	}
	p.ID = firstNonEmpty(p.ID, rec.ID)
	p.LocationID = firstNonEmpty(p.LocationID, rec.LocationID)
	if p.Stages == nil {
		p.Stages = []PipelineStage{}
	}
	slices.SortStableFunc(p.Stages, func(a, b PipelineStage) int { return a.Position - b.Position })
	return p, nil
}

// PutPipeline stores a pipeline of a location (inserting or replacing it),
// for the admin API, the demo seed and tests: GHL has no API to create one.
// Stages without an id get one. A replaced pipeline keeps its creation
// time, and so its place in the oldest-first list.
func PutPipeline(ctx context.Context, tx Tx, companyID string, p *Pipeline) error {
	return putPipelineAt(ctx, tx, companyID, p, time.Time{})
}

// putPipelineAt is PutPipeline with the creation time of a new pipeline
// (zero: now).
func putPipelineAt(ctx context.Context, tx Tx, companyID string, p *Pipeline, created time.Time) error {
	if p.ID == "" {
		p.ID = NewID()
	}
	for i := range p.Stages {
		if p.Stages[i].ID == "" {
			p.Stages[i].ID = NewID()
		}
	}
	rec := Record{Kind: KindPipeline, ID: p.ID, LocationID: p.LocationID, CompanyID: companyID, CreatedAt: created}
	if err := keepCreatedAt(ctx, tx, &rec); err != nil {
		return err
	}
	return PutRecordOf(ctx, tx, rec, p)
}
