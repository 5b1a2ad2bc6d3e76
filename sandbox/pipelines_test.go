package sandbox_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// pipelineSchemas are the opportunities spec's schemas with the stage
// items, which the spec mistypes as arrays, as the objects GHL answers.
func pipelineSchemas(t *testing.T) map[string]map[string]any {
	t.Helper()
	schemas := specSchemas(t, "opportunities")
	stages := schemas["PipelinesResponseSchema"]["properties"].(map[string]any)["stages"].(map[string]any)
	if items := stages["items"].(map[string]any); items["type"] != "array" {
		t.Fatalf("the spec's stage items are %v now: drop the override", items)
	}
	stages["items"] = map[string]any{"type": "object", "required": []any{"id", "name", "position"}, "properties": map[string]any{
		"id": map[string]any{"type": "string"}, "name": map[string]any{"type": "string"}, "position": map[string]any{"type": "number"}}}
	return schemas
}

func TestListPipelinesDemo(t *testing.T) {
	e, res := newDemoEnv(t, demoNow)
	r := e.do("GET", "/opportunities/pipelines?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200)
	m := r.JSON(t)
	schemas := pipelineSchemas(t)
	checkSchema(t, schemas, schemas["GetPipelinesSuccessfulResponseDto"], m, "body")
	list := m["pipelines"].([]any)
	if len(list) != 1 {
		t.Fatalf("pipelines = %v", m)
	}
	p := list[0].(map[string]any)
	if p["id"] != res.PipelineID || p["name"] != "Sales Pipeline" || p["locationId"] != e.L1 || p["showInFunnel"] != true || p["showInPieChart"] != true {
		t.Errorf("pipeline = %v", p)
	}
	stages := p["stages"].([]any)
	if len(stages) < 4 || len(stages) != len(res.StageIDs) {
		t.Fatalf("stages = %v (seed %v)", stages, res.StageIDs)
	}
	for i, s := range stages {
		s := s.(map[string]any)
		if s["id"] != res.StageIDs[i] || s["position"] != float64(i) || s["name"] == "" || len(s) != 3 {
			t.Errorf("stage %d = %v", i, s)
		}
	}
	if stages[0].(map[string]any)["name"] != "New Lead" || stages[len(stages)-1].(map[string]any)["name"] != "Closed Won" {
		t.Errorf("stage names = %v", stages)
	}
	// Nothing beyond the spec's fields, in the spec's envelope.
	if !strings.HasPrefix(string(r.Body), `{"pipelines":[{"id":"`+res.PipelineID+`","name":"Sales Pipeline","stages":[{"id":"`) {
		t.Errorf("body = %s", r.Body)
	}
}

func TestListPipelines(t *testing.T) {
	e := newTestEnv(t)
	// Stages stored out of order come back by position.
	first := &sandbox.Pipeline{Name: "Onboarding", LocationID: e.L1, Stages: []sandbox.PipelineStage{
		{Name: "Done", Position: 2}, {Name: "Start", Position: 0}, {Name: "Middle", Position: 1}}}
	theirs := &sandbox.Pipeline{Name: "Theirs", LocationID: e.L2}
	bare := sandbox.NewID()
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error {
		for _, p := range []*sandbox.Pipeline{first, theirs} {
			if err := sandbox.PutPipeline(ctx, tx, e.C1, p); err != nil {
				return err
			}
		}
		// Written by another component: no id, location or stages in the
		// document, created after the first.
		return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindPipeline, ID: bare, LocationID: e.L1, CompanyID: e.C1,
			CreatedAt: time.Now().Add(time.Hour)}, map[string]any{"name": "Bare", "internal": true})
	})
	for _, s := range first.Stages {
		if s.ID == "" {
			t.Fatalf("PutPipeline left a stage without an id: %+v", first.Stages)
		}
	}

	m := e.do("GET", "/opportunities/pipelines?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	schemas := pipelineSchemas(t)
	checkSchema(t, schemas, schemas["GetPipelinesSuccessfulResponseDto"], m, "body")
	list := m["pipelines"].([]any)
	if len(list) != 2 {
		t.Fatalf("pipelines = %v", m)
	}
	var got []sandbox.Pipeline
	raw, _ := json.Marshal(list)
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got[0].ID != first.ID || got[1].ID != bare {
		t.Errorf("order = %s, %s; want %s, %s", got[0].ID, got[1].ID, first.ID, bare)
	}
	var names []string
	for _, s := range got[0].Stages {
		names = append(names, s.Name)
	}
	if !reflect.DeepEqual(names, []string{"Start", "Middle", "Done"}) {
		t.Errorf("stages = %v", got[0].Stages)
	}
	if b := list[1].(map[string]any); b["locationId"] != e.L1 || b["internal"] != nil || b["stages"] == nil || len(b["stages"].([]any)) != 0 {
		t.Errorf("bare pipeline = %v", b)
	}

	// Store helpers the opportunities namespace builds on.
	err := e.Store.Read(context.Background(), func(tx sandbox.Tx) error {
		p, err := sandbox.GetPipeline(context.Background(), tx, first.ID)
		if err != nil {
			return err
		}
		if st := p.Stage(first.Stages[0].ID); st == nil || st.Name != "Done" || p.Stage("nope") != nil {
			t.Errorf("Stage lookup: %+v", st)
		}
		if _, err := sandbox.GetPipeline(context.Background(), tx, sandbox.NewID()); !sandbox.IsNotFound(err) || sandbox.ErrorMessage(err) != "Pipeline not found" {
			t.Errorf("unknown pipeline: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Another location sees only its own; an empty one an empty array.
	m = e.do("GET", "/opportunities/pipelines?locationId="+e.L2, e.TokL2, nil).mustStatus(t, 200).JSON(t)
	if l := m["pipelines"].([]any); len(l) != 1 || l[0].(map[string]any)["id"] != theirs.ID {
		t.Errorf("L2 pipelines = %v", m)
	}
	if r := e.do("GET", "/opportunities/pipelines/?locationId="+e.L3, e.TokL3, nil).mustStatus(t, 200); strings.TrimSpace(string(r.Body)) != `{"pipelines":[]}` {
		t.Errorf("empty list body = %s", r.Body)
	}
}

func TestListPipelinesErrors(t *testing.T) {
	e := newTestEnv(t)
	wantAPIError(t, e.do("GET", "/opportunities/pipelines", e.TokL1, nil), 422, "locationId should not be empty")
	wantAPIError(t, e.do("GET", "/opportunities/pipelines?locationId="+e.L1, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantAPIError(t, e.do("GET", "/opportunities/pipelines?locationId="+e.L1, e.TokL1Read, nil), 401, sandbox.MsgScope)
	wantAPIError(t, e.do("GET", "/opportunities/pipelines?locationId="+e.L1, "not-a-token", nil), 401, sandbox.MsgInvalidToken)
	wantAPIError(t, e.doH("GET", "/opportunities/pipelines?locationId="+e.L1, e.TokL1, nil, map[string]string{"Version": "2021-04-15x"}), 400, "Version header")
}

// TestPutPipelineReplaceKeepsOrder: replacing a pipeline keeps its place in
// the oldest-first list.
func TestPutPipelineReplaceKeepsOrder(t *testing.T) {
	e := newTestEnv(t)
	first, second := &sandbox.Pipeline{Name: "First", LocationID: e.L1}, &sandbox.Pipeline{Name: "Second", LocationID: e.L1}
	list := func() []string {
		t.Helper()
		var out []string
		for _, p := range e.do("GET", "/opportunities/pipelines?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t)["pipelines"].([]any) {
			out = append(out, p.(map[string]any)["name"].(string))
		}
		return out
	}
	for _, p := range []*sandbox.Pipeline{first, second} {
		putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error { return sandbox.PutPipeline(ctx, tx, e.C1, p) })
		time.Sleep(5 * time.Millisecond)
	}
	if got := list(); !reflect.DeepEqual(got, []string{"First", "Second"}) {
		t.Fatalf("pipelines = %v", got)
	}
	first.Name = "First, renamed"
	first.Stages = append(first.Stages, sandbox.PipelineStage{Name: "New"})
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error { return sandbox.PutPipeline(ctx, tx, e.C1, first) })
	if got := list(); !reflect.DeepEqual(got, []string{"First, renamed", "Second"}) {
		t.Errorf("pipelines after a replace = %v", got)
	}
}
