"""Team members, roles, login sessions and the audit log."""
