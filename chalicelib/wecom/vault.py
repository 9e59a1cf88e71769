"""Moved to :mod:`chalicelib.vault` (it seals every stored secret, not only 企业微信's); this
name keeps old imports working."""
from chalicelib.vault import VERSION, SealError, seal, unseal

__all__ = ["VERSION", "SealError", "seal", "unseal"]
