package sandbox

import "net/http"

// SetHandlerForTest replaces the handler of the route serving method+path,
// so tests can provoke failures (panics) inside the pipeline.
func (s *Server) SetHandlerForTest(method, path string, h func(http.ResponseWriter, *Request) error) {
	rt, _, _ := s.router.match(method, path)
	if rt == nil {
		panic("no route for " + method + " " + path)
	}
	rt.handler = h
}
