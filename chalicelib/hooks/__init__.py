"""Event webhooks: tenants subscribe URLs to domain event types; deliveries are signed, retried
from a queue with backoff and logged."""
