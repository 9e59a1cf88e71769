"""Campaign records on the wire and in storage (pure): the messages of the sends queue and the
delivery rows of a recipient batch, as named, typed records.

**Messages** (``yutang-sends`` SQS bodies, also kept in due items while quiet hours last):
:class:`DispatchMessage` (resolve one page of a run's audience) and :class:`BatchMessage` (deliver
one recipient batch). :func:`message_from_record` reads both the named shape ``to_record`` writes
and the terse shape of earlier releases (``k t c r p a m b u x q lt``), so messages already queued
or parked in due items when a release deploys are still handled.

**Delivery rows** (one per recipient inside a ``B#`` batch item): :class:`Row`. Their stored
keys stay short (``s at r d n next lease until ck p cp``) on purpose: a batch item holds up to 1,000
rows under DynamoDB's 400 KB item limit; :class:`Status` names the stored codes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

DISPATCH = "dispatch"
BATCH = "batch"


@dataclass(frozen=True)
class DispatchMessage:
    """Resolve page ``page`` of a run's audience (from after user id ``after``)."""
    tenant_id: str
    campaign_id: str
    run_id: str
    page: int
    snapshot: dict
    after: str | None = None
    quiet: bool = False  # the page waited for quiet hours (its recipients count as deferred)
    reload: bool = False

    def to_record(self) -> dict:
        record: dict[str, Any] = {"kind": DISPATCH, "tenant_id": self.tenant_id,
                                  "campaign_id": self.campaign_id, "run_id": self.run_id,
                                  "page": self.page, "snapshot": self.snapshot}
        _flags(record, after=self.after, quiet=self.quiet, reload=self.reload)
        return record

    @classmethod
    def from_record(cls, data: dict) -> DispatchMessage:
        if "kind" not in data:  # the terse shape of earlier releases
            return cls(data["t"], data["c"], data["r"], int(data["p"]), data["m"], data.get("a"),
                       bool(data.get("q")), bool(data.get("x")))
        return cls(data["tenant_id"], data["campaign_id"], data["run_id"], int(data["page"]),
                   data["snapshot"], data.get("after"), bool(data.get("quiet")),
                   bool(data.get("reload")))

    def next_page(self, after: str | None) -> DispatchMessage:
        return DispatchMessage(self.tenant_id, self.campaign_id, self.run_id, self.page + 1,
                               self.snapshot, after)


@dataclass(frozen=True)
class BatchMessage:
    """Deliver batch ``batch`` (fixed ``users``) of a run."""
    tenant_id: str
    campaign_id: str
    run_id: str
    batch: str
    users: list[str]
    snapshot: dict
    reload: bool = False  # read the batch item first (a redelivery, a resume, a re-drive)
    last_try: bool = False  # the tick's last re-drive: whatever fails now is final

    def to_record(self) -> dict:
        record: dict[str, Any] = {"kind": BATCH, "tenant_id": self.tenant_id,
                                  "campaign_id": self.campaign_id, "run_id": self.run_id,
                                  "batch": self.batch, "users": self.users,
                                  "snapshot": self.snapshot}
        _flags(record, reload=self.reload, last_try=self.last_try)
        return record

    @classmethod
    def from_record(cls, data: dict) -> BatchMessage:
        if "kind" not in data:  # the terse shape of earlier releases
            return cls(data["t"], data["c"], data["r"], data["b"], list(data["u"]), data["m"],
                       bool(data.get("x")), bool(data.get("lt")))
        return cls(data["tenant_id"], data["campaign_id"], data["run_id"], data["batch"],
                   list(data["users"]), data["snapshot"], bool(data.get("reload")),
                   bool(data.get("last_try")))


Message = DispatchMessage | BatchMessage


def _flags(record: dict, **values: Any) -> None:
    """Optional fields are written only when set (messages stay small)."""
    record.update({k: (1 if v is True else v) for k, v in values.items() if v})


def message_from_record(data: dict) -> Message:
    kind = data.get("kind", data.get("k"))
    if kind == DISPATCH:
        return DispatchMessage.from_record(data)
    if kind == BATCH:
        return BatchMessage.from_record(data)
    raise ValueError(f"not a campaign message: kind {kind!r}")


def reloaded(msg: Message) -> Message:
    return replace(msg, reload=True)


class Status(StrEnum):
    """A delivery row's state; the values are what the batch item stores."""
    SENT = "s"
    FAILED = "f"
    SKIPPED = "k"
    DEFERRED = "d"  # waiting for quiet hours to end
    CLAIMED = "c"  # being sent, under a lease
    RETRY = "r"  # claimed and known unsent: to retry

    @property
    def view(self) -> str:
        """The name the API shows (``GET …/deliveries``)."""
        return _VIEWS[self]


_VIEWS = {Status.SENT: "sent", Status.FAILED: "failed", Status.SKIPPED: "skipped",
          Status.DEFERRED: "deferred", Status.CLAIMED: "sending", Status.RETRY: "pending"}
FINAL = frozenset({Status.SENT, Status.FAILED, Status.SKIPPED})

# stored key -> field name
_ROW_KEYS = {"s": "status", "at": "at", "r": "reason", "d": "detail", "n": "attempts",
             "next": "next_at", "lease": "lease", "until": "until", "ck": "clicked_at",
             "p": "pick", "cp": "coupon"}


@dataclass(frozen=True)
class Row:
    """One recipient's delivery record."""
    status: Status
    at: str | None = None
    reason: str | None = None
    detail: str | None = None
    attempts: int | None = None  # sends tried so far (retried channels)
    next_at: int | None = None  # epoch second of the next try (RETRY)
    lease: int | None = None  # epoch second the claim runs out (CLAIMED)
    until: str | None = None  # when quiet hours end (DEFERRED)
    clicked_at: str | None = None
    pick: dict | None = None  # smart push: the chosen content and why (smartpush.Choice record)
    coupon: str | None = None  # the coupon code granted to the recipient
    extra: dict = field(default_factory=dict, compare=False)  # stored keys this release ignores

    def to_record(self) -> dict:
        record: dict[str, Any] = {"s": self.status.value}
        for key, name in _ROW_KEYS.items():
            value = getattr(self, name)
            if key != "s" and value is not None:
                record[key] = value
        return {**self.extra, **record}

    @classmethod
    def from_record(cls, data: dict) -> Row:
        values = {name: data[key] for key, name in _ROW_KEYS.items() if key in data}
        values["status"] = Status(data["s"])
        extra = {k: v for k, v in data.items() if k not in _ROW_KEYS}
        return cls(**values, extra=extra)

    @property
    def final(self) -> bool:
        return self.status in FINAL


def rows_from_record(data: dict | None) -> dict[str, Row]:
    return {user: Row.from_record(r) for user, r in (data or {}).items()}


def rows_to_record(rows: dict[str, Row]) -> dict[str, dict]:
    return {user: r.to_record() for user, r in rows.items()}
