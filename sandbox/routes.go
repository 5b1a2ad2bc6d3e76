package sandbox

// registerRoutes wires every namespace's handlers. Each namespace registers
// its spec operations (by operationId) in its own file.
func (s *Server) registerRoutes() {
	s.registerContacts()
	s.registerLocations()
	s.registerCustomFields()
	s.registerUsers()
	s.registerCompanies()
	s.registerOAuth()
	s.registerAdmin()
	s.registerWorkflows()
	s.registerCampaigns()
	s.registerPipelines()
	s.registerCalendars()
	s.registerWebhooks()
}
