"""Documents in, clean text and chunks out: pure functions, no models, no stores."""
