package sandbox

func (s *Server) registerLocations() {}
