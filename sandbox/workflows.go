package sandbox

func (s *Server) registerWorkflows() {}
