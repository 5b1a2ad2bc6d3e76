package sandbox

func (s *Server) registerOAuth() {}
