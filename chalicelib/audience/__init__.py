"""The audience: one user per person across WeChat identities, tags, events and lifecycle stage."""
