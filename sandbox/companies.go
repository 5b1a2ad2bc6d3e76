package sandbox

func (s *Server) registerCompanies() {}
