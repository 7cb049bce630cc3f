"""Report files: the entries CSV and the burn-down chart PNG."""
