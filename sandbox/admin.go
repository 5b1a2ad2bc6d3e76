package sandbox

func (s *Server) registerAdmin() {}
