"""The domain, pure: events and the lifecycle, the typed policy, time limits, working-day
arithmetic, deadlines, case ids, receipts, personal-data patterns, disclosure control and the
statistics. No file, network or process I/O happens here, so every rule can be tested alone."""
