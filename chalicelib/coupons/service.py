"""Coupon pools, grants and redemptions (the one entry point of the routes, and the function
campaigns, fission rewards and journeys call to grant a code: :func:`grant`).

A grant is exactly once per (pool, scope, person): the grant item is put only if absent, in the
same transaction that moves the pool's ``issued`` from n to n + 1 and marks code n as its, so under
retries and races a person gets one code, a code goes to one person, and a pool of N codes makes
at most N grants. A losing writer re-reads and tries the next index (or finds its own grant).
"""
from __future__ import annotations

import logging
import random
import secrets
import time
from datetime import datetime
from typing import Any, NamedTuple

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib import clock
from chalicelib import validate as v
from chalicelib.coupons import codes
from chalicelib.coupons.models import Coupon
from chalicelib.db import condition_failed
from chalicelib.error_codes import (
    COUPON_CODE_NOT_FOUND,
    COUPON_NOT_THEIRS,
    COUPON_POOL_BUSY,
    COUPON_POOL_GENERATED,
    COUPON_POOL_NOT_FOUND,
    COUPON_UPLOAD_CONFLICT,
    COUPONS_EXHAUSTED,
    DUPLICATE_COUPON_CODE,
    INVALID_COUPON_POOL,
)
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import is_id, new_id

log = logging.getLogger("yutang.coupons")
POOL_ID_LEN = 10
ATTEMPTS = 60
CHUNK = 49  # codes per upload transaction: 2 items each, plus the pool


class Grant(NamedTuple):
    code: str
    status: str
    new: bool


def exhausted(pool_id: str) -> Conflict:
    return Conflict(f"coupon pool {pool_id} has no code left", code=COUPONS_EXHAUSTED)


def missing(pool_id: str = "") -> NotFound:
    return NotFound(f"no such coupon pool: {str(pool_id)[:40]}", code=COUPON_POOL_NOT_FOUND)


def view(p: Coupon) -> dict:
    size, issued = int(p.size or 0), int(p.issued or 0)
    return {"id": p.pool_id, "name": p.name, "kind": p.kind, "pattern": p.pattern, "size": size,
            "issued": issued, "redeemed": int(p.redeemed or 0), "left": max(0, size - issued),
            "created_at": p.created_at.isoformat() if p.created_at else None}


def load(tenant_id: str, pool_id: str) -> Coupon:
    if not isinstance(pool_id, str) or not is_id(pool_id, POOL_ID_LEN):
        raise missing(str(pool_id))
    return Coupon.get_or_raise(tenant_id, Coupon.pool_key(pool_id), missing(pool_id))


def get_pool(tenant_id: str, pool_id: str) -> dict:
    return view(load(tenant_id, pool_id))


def check_pool(tenant_id: str, pool_id: str, field: str) -> None:
    """A reference to a pool (a campaign message, a fission reward): the tenant's own, or 400."""
    try:
        load(tenant_id, pool_id)
    except NotFound as exc:
        raise ValidationFailed(exc.message, code=COUPON_POOL_NOT_FOUND, field=field) from None


def list_pools(tenant_id: str) -> dict:
    pools = Coupon.query(tenant_id, Coupon.sk.startswith(Coupon.pool_key()))
    return {"items": [view(p) for p in pools], "next_cursor": None}


# ---- pools and codes ----------------------------------------------------------------------------

def create_pool(tenant_id: str, body: dict) -> dict:
    """``{name, codes: [...]}`` (uploaded) or ``{name, generate: {pattern, count}}``."""
    v.only_keys(body, {"name", "codes", "generate"})
    name = v.text(body, "name", required=True, max_len=100)
    if ("codes" in body) == ("generate" in body):
        raise ValidationFailed("a pool has either 'codes' (uploaded) or 'generate' "
                               "({pattern, count})", code=INVALID_COUPON_POOL, field="codes")
    pool = Coupon(tenant_id=tenant_id, pool_id=new_id(POOL_ID_LEN), name=name, issued=0,
                  redeemed=0, size=0, created_at=clock.now())
    pool.sk = Coupon.pool_key(pool.pool_id)
    if "generate" in body:
        gen = v.object_(body, "generate", required=True)
        v.only_keys(gen, {"pattern", "count"}, "generate")
        pool.kind, pool.pattern = "generated", codes.check_pattern(gen.get("pattern"))
        pool.size = _count(gen.get("count"), min(codes.MAX_GENERATED,
                                                  codes.capacity(pool.pattern)))
        pool.secret = secrets.token_hex(16)
        pool.save(condition=Coupon.sk.does_not_exist())
        return view(pool)
    clean = codes.check_codes(body.get("codes"))
    pool.kind = "uploaded"
    pool.save(condition=Coupon.sk.does_not_exist())
    return _upload(pool, clean)


def _count(value: Any, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ValidationFailed(f"'generate.count' must be an integer 1-{most}",
                               code=INVALID_COUPON_POOL, field="generate.count")
    return value


def add_codes(tenant_id: str, pool_id: str, body: dict) -> dict:
    v.only_keys(body, {"codes"})
    pool = load(tenant_id, pool_id)
    if pool.kind != "uploaded":
        raise Conflict("a generated pool makes its own codes", code=COUPON_POOL_GENERATED)
    return _upload(pool, codes.check_codes(body.get("codes")))


def _upload(pool: Coupon, clean: list[str]) -> dict:
    """Codes appended at the pool's next indexes; each is unique in the tenant (409 otherwise)."""
    taken = Coupon.batch_get([(pool.tenant_id, Coupon.owner_key(c)) for c in clean],
                             attributes_to_get=["sk"])
    dup = sorted(item.sk[2:] for item in taken)
    if dup:
        raise Conflict(f"code {dup[0]!r} is already in a pool", code=DUPLICATE_COUPON_CODE)
    for start in range(0, len(clean), CHUNK):
        part = clean[start:start + CHUNK]
        size = int(pool.size or 0)
        try:
            with Coupon.transaction() as tx:
                tx.update(pool, actions=[Coupon.size.set(size + len(part))],
                          condition=Coupon.size == size)
                for i, code in enumerate(part):
                    tx.save(Coupon(tenant_id=pool.tenant_id, sk=Coupon.code_key(
                        pool.pool_id, size + i), pool_id=pool.pool_id, code=code))
                    tx.save(Coupon(tenant_id=pool.tenant_id, sk=Coupon.owner_key(code),
                                   pool_id=pool.pool_id, index=size + i, code=code),
                            condition=Coupon.sk.does_not_exist())
        except TransactWriteError as exc:
            if condition_failed(exc):
                raise Conflict("the pool changed or a code is already in a pool; retry",
                               code=COUPON_UPLOAD_CONFLICT) from None
            raise
        pool.size = size + len(part)
    return view(pool)


# ---- grants -------------------------------------------------------------------------------------

def grant(tenant_id: str, pool_id: str, scope: str, person: str) -> Grant:
    """The code ``person`` holds in ``scope`` from the pool: granted now (``new``) or earlier.
    Conflict ``coupons-exhausted`` when the pool has none left for a new grant."""
    key = Coupon.grant_key(pool_id, scope, person)
    for attempt in range(ATTEMPTS):
        held = _held(tenant_id, key)
        if held is not None:
            return held
        pool = load(tenant_id, pool_id)
        issued = int(pool.issued or 0)
        if issued >= int(pool.size or 0):
            # the last code may have just gone to this very person (a concurrent retry)
            held = _held(tenant_id, key)
            if held is not None:
                return held
            raise exhausted(pool_id)
        code = _code_at(pool, issued)
        try:
            _commit(pool, key, scope, person, code, issued, clock.now())
        except TransactWriteError as exc:
            if not condition_failed(exc):
                raise
            time.sleep(random.uniform(0.001, 0.01) * min(attempt + 1, 8))  # noqa: S311 - jitter
            continue
        return Grant(code, "issued", True)
    raise Conflict("the coupon pool is busy; retry", code=COUPON_POOL_BUSY)


def _held(tenant_id: str, key: str) -> Grant | None:
    found = _find(tenant_id, key)
    return None if found is None else Grant(found.code or "", found.status or "issued", False)


def _find(tenant_id: str, sk: str) -> Coupon | None:
    try:
        return Coupon.get(tenant_id, sk, consistent_read=True)
    except DoesNotExist:
        return None


def _code_at(pool: Coupon, index: int) -> str:
    if pool.kind == "generated":
        return codes.generate(pool.secret or "", pool.pattern or "", index)
    item = Coupon.get(pool.tenant_id, Coupon.code_key(pool.pool_id, index), consistent_read=True)
    return item.code or ""


def _commit(pool: Coupon, key: str, scope: str, person: str, code: str, index: int,
            now: datetime) -> None:
    owner = Coupon(tenant_id=pool.tenant_id, sk=Coupon.owner_key(code))
    with Coupon.transaction() as tx:
        tx.update(pool, actions=[Coupon.issued.set(index + 1)], condition=Coupon.issued == index)
        tx.save(Coupon(tenant_id=pool.tenant_id, sk=key, pool_id=pool.pool_id, code=code,
                       index=index, scope=scope, person=person, status="issued",
                       granted_at=now), condition=Coupon.sk.does_not_exist())
        if pool.kind == "generated":
            tx.save(Coupon(tenant_id=pool.tenant_id, sk=owner.sk, pool_id=pool.pool_id,
                           code=code, index=index, grant=key, person=person),
                    condition=Coupon.sk.does_not_exist())
        else:
            tx.update(owner, actions=[Coupon.grant.set(key), Coupon.person.set(person)],
                      condition=Coupon.sk.exists() & Coupon.grant.does_not_exist())


def grant_view(g: Coupon) -> dict:
    return {"pool_id": g.pool_id, "code": g.code, "scope": g.scope, "person": g.person,
            "status": g.status, "granted_at": g.granted_at.isoformat() if g.granted_at else None,
            "redeemed_at": g.redeemed_at.isoformat() if g.redeemed_at else None}


def list_grants(tenant_id: str, pool_id: str) -> dict:
    load(tenant_id, pool_id)
    found = Coupon.query(tenant_id, Coupon.sk.startswith(Coupon.grant_key(pool_id, "", "")[:-1]))
    return {"items": [grant_view(g) for g in found], "next_cursor": None}


# ---- redemptions --------------------------------------------------------------------------------

def redeem(tenant_id: str, body: dict) -> dict:
    """``{code, user_id?}``: the grant of this code becomes ``redeemed`` (once: a repeat answers
    the same grant); with ``user_id``, only if the code was granted to that person."""
    v.only_keys(body, {"code", "user_id"})
    code = v.text(body, "code", required=True, max_len=64)
    person = v.text(body, "user_id", max_len=64)
    return redeem_code(tenant_id, code, person)


def redeem_code(tenant_id: str, code: str, person: str | None = None) -> dict:
    owner = _find(tenant_id, Coupon.owner_key(code))
    if owner is None or not owner.grant:
        raise NotFound("no granted coupon has this code", code=COUPON_CODE_NOT_FOUND,
                       field="code")
    if person is not None and owner.person != person:
        raise Conflict("this code was granted to someone else", code=COUPON_NOT_THEIRS)
    g = Coupon(tenant_id=tenant_id, sk=owner.grant)
    now = clock.now()
    try:
        with Coupon.transaction() as tx:
            tx.update(g, actions=[Coupon.status.set("redeemed"), Coupon.redeemed_at.set(now)],
                      condition=Coupon.status == "issued")
            tx.update(Coupon(tenant_id=tenant_id, sk=Coupon.pool_key(owner.pool_id or "")),
                      actions=[Coupon.redeemed.add(1)])
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
    found = _find(tenant_id, owner.grant)
    if found is None:
        raise NotFound("no granted coupon has this code", code=COUPON_CODE_NOT_FOUND)
    return grant_view(found)
