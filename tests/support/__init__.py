"""Test support: real server processes, a throwaway PostgreSQL, the two SDK lines."""
