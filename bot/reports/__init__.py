"""Report files: the entries CSV, the burn-down chart PNG, and a client's statement e-mail."""
