"""A tenant's opened 企业微信 settings: what the client takes and the callbacks check signatures
with. :func:`chalicelib.wecom.integration.load` builds it; nothing here loads anything."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    tenant_id: str
    corp_id: str
    secret: str
    token: str
    encoding_aes_key: str
    agent_id: int | None
    fingerprint: str

    def __repr__(self) -> str:  # never print secrets (logs, tracebacks)
        return f"Config(tenant_id={self.tenant_id!r}, corp_id={self.corp_id!r})"
