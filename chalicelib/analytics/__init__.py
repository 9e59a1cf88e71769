"""Scan analytics: daily counters per live code and target, written off the request path."""
