package ghl

import (
	"context"
	"encoding/json"
	"net/http"
)

// CompaniesService calls the companies (agency) namespace (/companies/…).
type CompaniesService service

// Company is a GHL agency.
type Company struct {
	ID                             string          `json:"id,omitempty"`
	Name                           string          `json:"name,omitempty"`
	Email                          string          `json:"email,omitempty"`
	LogoURL                        string          `json:"logoUrl,omitempty"`
	Phone                          string          `json:"phone,omitempty"`
	Website                        string          `json:"website,omitempty"`
	Domain                         string          `json:"domain,omitempty"`
	SpareDomain                    string          `json:"spareDomain,omitempty"`
	PrivacyPolicy                  string          `json:"privacyPolicy,omitempty"`
	TermsConditions                string          `json:"termsConditions,omitempty"`
	Address                        string          `json:"address,omitempty"`
	City                           string          `json:"city,omitempty"`
	PostalCode                     string          `json:"postalCode,omitempty"`
	Country                        string          `json:"country,omitempty"`
	State                          string          `json:"state,omitempty"`
	Timezone                       string          `json:"timezone,omitempty"`
	RelationshipNumber             string          `json:"relationshipNumber,omitempty"`
	Subdomain                      string          `json:"subdomain,omitempty"`
	Plan                           FlexInt         `json:"plan,omitempty"`
	Currency                       string          `json:"currency,omitempty"`
	CustomerType                   string          `json:"customerType,omitempty"`
	TermsOfServiceVersion          string          `json:"termsOfServiceVersion,omitempty"`
	TermsOfServiceAcceptedBy       string          `json:"termsOfServiceAcceptedBy,omitempty"`
	TermsOfServiceAcceptedDate     FlexString      `json:"termsOfServiceAcceptedDate,omitempty"`
	TwilioTrialMode                bool            `json:"twilioTrialMode,omitempty"`
	TwilioFreeCredits              float64         `json:"twilioFreeCredits,omitempty"`
	PrivacyPolicyVersion           string          `json:"privacyPolicyVersion,omitempty"`
	PrivacyPolicyAcceptedBy        string          `json:"privacyPolicyAcceptedBy,omitempty"`
	PrivacyPolicyAcceptedDate      FlexString      `json:"privacyPolicyAcceptedDate,omitempty"`
	AffiliatePolicyVersion         string          `json:"affiliatePolicyVersion,omitempty"`
	AffiliatePolicyAcceptedBy      string          `json:"affiliatePolicyAcceptedBy,omitempty"`
	AffiliatePolicyAcceptedDate    FlexString      `json:"affiliatePolicyAcceptedDate,omitempty"`
	IsReselling                    bool            `json:"isReselling,omitempty"`
	OnboardingInfo                 json.RawMessage `json:"onboardingInfo,omitempty"`
	UpgradeEnabledForClients       bool            `json:"upgradeEnabledForClients,omitempty"`
	CancelEnabledForClients        bool            `json:"cancelEnabledForClients,omitempty"`
	AutoSuspendEnabled             bool            `json:"autoSuspendEnabled,omitempty"`
	SaaSSettings                   json.RawMessage `json:"saasSettings,omitempty"`
	StripeConnectID                string          `json:"stripeConnectId,omitempty"`
	EnableDepreciatedFeatures      bool            `json:"enableDepreciatedFeatures,omitempty"`
	PremiumUpgraded                bool            `json:"premiumUpgraded,omitempty"`
	Status                         string          `json:"status,omitempty"`
	LocationCount                  int             `json:"locationCount,omitempty"`
	DisableEmailService            bool            `json:"disableEmailService,omitempty"`
	ReferralID                     string          `json:"referralId,omitempty"`
	IsEnterpriseAccount            bool            `json:"isEnterpriseAccount,omitempty"`
	BusinessNiche                  string          `json:"businessNiche,omitempty"`
	BusinessCategory               string          `json:"businessCategory,omitempty"`
	BusinessAffinityGroup          string          `json:"businessAffinityGroup,omitempty"`
	IsSandboxAccount               bool            `json:"isSandboxAccount,omitempty"`
	EnableNewSubAccountDefaultData bool            `json:"enableNewSubAccountDefaultData,omitempty"`
}

// Get returns a company (agency token).
//
// GHL API: GET /companies/{companyId}
func (s *CompaniesService) Get(ctx context.Context, companyID string) (*Company, error) {
	u, err := apiPath("companies/%s", companyID)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(at(ctx, UserTypeCompany, companyID), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Company *Company `json:"company"`
	}
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Company, nil
}
