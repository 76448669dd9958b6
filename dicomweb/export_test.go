package dicomweb

// RetryAfter reads a Retry-After header, for the tests.
var RetryAfter = retryAfter

// ResetCredentials forgets SetCredentials: Open reads the environment again.
func ResetCredentials() {
	processMu.Lock()
	processCreds = nil
	processMu.Unlock()
}
