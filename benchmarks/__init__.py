"""Performance scripts."""
