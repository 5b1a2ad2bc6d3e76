package sandbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// wantAPIError checks a GHL error answer: status, statusCode and a message
// containing msg (string or array form).
func wantAPIError(t *testing.T, res *response, status int, msg string) {
	t.Helper()
	m := res.mustStatus(t, status).JSON(t)
	if m["statusCode"] != float64(status) {
		t.Errorf("statusCode = %v, want %d", m["statusCode"], status)
	}
	text := ""
	switch v := m["message"].(type) {
	case string:
		text = v
	case []any:
		for _, p := range v {
			s, _ := p.(string)
			text += s + "; "
		}
	}
	if !strings.Contains(text, msg) {
		t.Errorf("message %q does not contain %q", m["message"], msg)
	}
}

func putRecords(t *testing.T, e *testEnv, fn func(ctx context.Context, tx sandbox.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := e.Store.Write(ctx, func(tx sandbox.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func TestListWorkflows(t *testing.T) {
	e := newTestEnv(t)
	created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	wf1 := &sandbox.Workflow{Name: "Nurture", Status: sandbox.WorkflowPublished, Version: 3, LocationID: e.L1,
		CreatedAt: sandbox.Time{Time: created}, UpdatedAt: sandbox.Time{Time: created.Add(time.Hour)}}
	wf2 := &sandbox.Workflow{Name: "Draft flow", Status: sandbox.WorkflowDraft, Version: 1, LocationID: e.L1,
		CreatedAt: sandbox.Time{Time: created.Add(24 * time.Hour)}}
	other := &sandbox.Workflow{Name: "Theirs", Status: sandbox.WorkflowPublished, LocationID: e.L2}
	var bare string
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error {
		for _, wf := range []*sandbox.Workflow{wf1, wf2, other} {
			if err := sandbox.PutWorkflow(ctx, tx, e.C1, wf); err != nil {
				return err
			}
		}
		// A record written by another component with only a name: the
		// answer still carries every field of WorkflowSchema.
		bare = sandbox.NewID()
		return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindWorkflow, ID: bare, LocationID: e.L1, CompanyID: e.C1,
			CreatedAt: created.Add(48 * time.Hour), UpdatedAt: created.Add(48 * time.Hour)}, map[string]any{"name": "Engine flow", "actions": []any{}})
	})

	// The Node SDK's path ends with a slash; both forms work.
	for _, path := range []string{"/workflows/?locationId=" + e.L1, "/workflows?locationId=" + e.L1} {
		m := e.do("GET", path, e.TokL1, nil).mustStatus(t, 200).JSON(t)
		list, _ := m["workflows"].([]any)
		if len(list) != 3 {
			t.Fatalf("%s: %d workflows, want 3: %v", path, len(list), m)
		}
		first := list[0].(map[string]any)
		want := map[string]any{"id": wf1.ID, "name": "Nurture", "status": "published", "version": float64(3),
			"createdAt": "2026-03-01T10:00:00.000Z", "updatedAt": "2026-03-01T11:00:00.000Z", "locationId": e.L1}
		for k, v := range want {
			if first[k] != v {
				t.Errorf("workflows[0].%s = %v, want %v", k, first[k], v)
			}
		}
		if len(first) != len(want) {
			t.Errorf("workflows[0] has keys beyond WorkflowSchema: %v", first)
		}
		if got := list[1].(map[string]any)["updatedAt"]; got != "2026-03-02T10:00:00.000Z" {
			t.Errorf("updatedAt defaults to createdAt, got %v", got)
		}
		third := list[2].(map[string]any)
		if third["id"] != bare || third["status"] != "draft" || third["version"] != float64(1) ||
			third["createdAt"] != "2026-03-03T10:00:00.000Z" || third["locationId"] != e.L1 {
			t.Errorf("bare record view = %v", third)
		}
		if _, ok := third["actions"]; ok {
			t.Errorf("engine fields leak into the API: %v", third)
		}
	}

	// Another location's list holds only its own workflow.
	m := e.do("GET", "/workflows/?locationId="+e.L2, e.TokL2, nil).mustStatus(t, 200).JSON(t)
	if list := m["workflows"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != other.ID {
		t.Errorf("L2 workflows = %v", m)
	}
	// An empty location answers an empty array, not null.
	if res := e.do("GET", "/workflows/?locationId="+e.L3, e.TokL3, nil).mustStatus(t, 200); strings.TrimSpace(string(res.Body)) != `{"workflows":[]}` {
		t.Errorf("empty list body = %s", res.Body)
	}
}

func TestListWorkflowsErrors(t *testing.T) {
	e := newTestEnv(t)
	wantAPIError(t, e.do("GET", "/workflows/", e.TokL1, nil), 422, "locationId should not be empty")
	wantAPIError(t, e.do("GET", "/workflows/?locationId="+e.L1, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantAPIError(t, e.do("GET", "/workflows/?locationId="+e.L1, e.TokL1Read, nil), 401, sandbox.MsgScope)
	wantAPIError(t, e.do("GET", "/workflows/?locationId="+e.L1, "not-a-token", nil), 401, sandbox.MsgInvalidToken)
	wantAPIError(t, e.doH("GET", "/workflows/?locationId="+e.L1, e.TokL1, nil, map[string]string{"Version": ""}), 400, sandbox.MsgVersionHeader)
}
