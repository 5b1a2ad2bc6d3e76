package sandbox_test

import (
	"context"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

func TestListCampaigns(t *testing.T) {
	e := newTestEnv(t)
	spring := &sandbox.Campaign{Name: "Spring", Status: sandbox.CampaignPublished, LocationID: e.L1}
	draft := &sandbox.Campaign{Name: "Draft", Status: sandbox.CampaignDraft, LocationID: e.L1}
	theirs := &sandbox.Campaign{Name: "Theirs", Status: sandbox.CampaignPublished, LocationID: e.L2}
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error {
		for _, c := range []*sandbox.Campaign{spring, draft, theirs} {
			if err := sandbox.PutCampaign(ctx, tx, e.C1, c); err != nil {
				return err
			}
		}
		return nil
	})

	ids := func(m map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, c := range m["campaigns"].([]any) {
			c := c.(map[string]any)
			out[c["id"].(string)] = c
		}
		return out
	}
	all := ids(e.do("GET", "/campaigns/?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t))
	if len(all) != 2 || all[spring.ID] == nil || all[draft.ID] == nil {
		t.Fatalf("campaigns = %v", all)
	}
	want := map[string]any{"id": spring.ID, "name": "Spring", "status": "published", "locationId": e.L1}
	for k, v := range want {
		if all[spring.ID][k] != v {
			t.Errorf("campaign.%s = %v, want %v", k, all[spring.ID][k], v)
		}
	}
	if len(all[spring.ID]) != len(want) {
		t.Errorf("campaign has keys beyond campaignsSchema: %v", all[spring.ID])
	}

	// status filters (case-insensitively); an unknown status matches nothing.
	for status, wantIDs := range map[string][]string{"published": {spring.ID}, "DRAFT": {draft.ID}, "archived": nil} {
		got := ids(e.do("GET", "/campaigns/?locationId="+e.L1+"&status="+status, e.TokL1, nil).mustStatus(t, 200).JSON(t))
		if len(got) != len(wantIDs) {
			t.Errorf("status=%s: %v, want %v", status, got, wantIDs)
		}
		for _, id := range wantIDs {
			if got[id] == nil {
				t.Errorf("status=%s: missing %s", status, id)
			}
		}
	}

	wantAPIError(t, e.do("GET", "/campaigns/", e.TokL1, nil), 422, "locationId should not be empty")
	wantAPIError(t, e.do("GET", "/campaigns/?locationId="+e.L1, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantAPIError(t, e.do("GET", "/campaigns/?locationId="+e.L1, e.TokL1Read, nil), 401, sandbox.MsgScope)
}
