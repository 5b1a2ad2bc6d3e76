package sandbox

func (s *Server) registerCampaigns() {}
