package sandbox

func (s *Server) registerWebhooks() {}
