"""Benchmark scripts: each prints one JSON object per scenario (run them from the repository root)."""
