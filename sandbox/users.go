package sandbox

func (s *Server) registerUsers() {}
