"""Tenants, API keys (stored only as hashes) and the request authentication middleware."""
