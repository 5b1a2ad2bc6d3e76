package sandbox

func (s *Server) registerContacts() {}
