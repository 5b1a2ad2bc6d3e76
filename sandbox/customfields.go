package sandbox

func (s *Server) registerCustomFields() {}
