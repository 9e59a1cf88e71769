"""Seed the local stack: a demo tenant (with a stable API key), its owner login and a demo live code."""
from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth import keys
from chalicelib.auth import service as auth
from chalicelib.auth.models import Tenant
from chalicelib.ids import new_id, new_token
from chalicelib.livecodes import service as livecodes


def demo_image(title: str, subtitle: str, color: tuple[int, int, int]) -> str:
    """A stand-in group QR image: a real QR (pointing nowhere useful) with a caption."""
    from PIL import Image, ImageDraw

    from chalicelib import qr

    code = Image.open(io.BytesIO(qr.render_png(f"yutang-demo:{title}", qr.QrStyle(size=400,
                                                                                    fg=color))))
    canvas = Image.new("RGB", (440, 500), (255, 255, 255))
    canvas.paste(code.convert("RGB"), (20, 20))
    draw = ImageDraw.Draw(canvas)
    draw.text((20, 440), f"{subtitle}", fill=color)
    out = io.BytesIO()
    canvas.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


DEV_OWNER_EMAIL = "owner@demo.yutang.dev"


def credentials(data_dir: Path, dev_key: str | None, admin_key: str | None,
                owner_password: str | None = None) -> dict:
    """The demo tenant's key, its owner's password and the admin key: from the environment, else
    generated once and kept in the data dir."""
    path = data_dir / "dev-credentials.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    if dev_key:
        parsed = keys.parse_key(dev_key)
        if parsed is None:
            raise SystemExit("YUTANG_DEV_API_KEY must look like yt_<8 chars>_<8 chars>_<secret> "
                             "(letters from 23456789abcdefghijkmnpqrstuvwxyz)")
        saved["api_key"], saved["tenant_id"] = dev_key, parsed.tenant_id
    if not saved.get("api_key"):
        tenant_id = new_id(keys.TENANT_ID_LEN)
        saved["tenant_id"] = tenant_id
        saved["api_key"] = f"{keys.PREFIX}{tenant_id}_{new_id(keys.KEY_ID_LEN)}_{new_token(32)}"
    saved["admin_key"] = admin_key or saved.get("admin_key") or f"adm_{new_token(24)}"
    if owner_password:
        from chalicelib.errors import ValidationFailed
        from chalicelib.members import passwords

        try:
            passwords.check_rules(owner_password, DEV_OWNER_EMAIL, "YUTANG_DEV_OWNER_PASSWORD")
        except ValidationFailed as exc:
            raise SystemExit(exc.message) from None
    saved["owner_email"] = DEV_OWNER_EMAIL
    saved["owner_password"] = owner_password or saved.get("owner_password") or new_token(12)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=2))
    path.chmod(0o600)
    return saved


def seed(creds: dict) -> dict:
    tenant_id = creds["tenant_id"]
    try:
        Tenant.get(tenant_id)
        fresh = False
    except DoesNotExist:
        Tenant(tenant_id=tenant_id, name="演示品牌 Demo Brand", created_at=datetime.now(timezone.utc),
               webhook_secret_sealed=auth.seal_webhook_secret(tenant_id, new_token(24))).save()
        fresh = True
    parsed = keys.parse_key(creds["api_key"])
    try:
        auth.authenticate(creds["api_key"])
    except Exception:  # noqa: BLE001 - not stored yet (or revoked): store it
        auth.create_api_key(tenant_id, label="dev", fixed_key=creds["api_key"])
    owner_id = seed_owner(tenant_id, creds["owner_email"], creds["owner_password"])
    codes = livecodes.list_codes(tenant_id, 10, None)["items"]
    demo = next((c for c in codes if c["channel"] == "demo"), None)
    if demo is None:
        demo = livecodes.create(tenant_id, {
            "name": "鱼塘演示活码", "channel": "demo", "strategy": "fill",
            "targets": [
                {"kind": "group", "name": "鱼塘福利群 1 群", "capacity": 3,
                 "image": demo_image("group-1", "Demo group 1", (7, 150, 80))},
                {"kind": "group", "name": "鱼塘福利群 2 群", "capacity": 3,
                 "image": demo_image("group-2", "Demo group 2", (20, 90, 160)),
                 "expires_at": (datetime.now(timezone.utc) + timedelta(days=7)).isoformat()},
            ],
            "fallback": {"kind": "staff", "name": "客服小鱼",
                         "image": demo_image("staff", "Customer service", (160, 60, 20))},
        })
    return {"tenant_id": tenant_id, "fresh": fresh, "key_id": parsed.key_id if parsed else None,
            "demo_code": demo, "owner_id": owner_id}


def seed_owner(tenant_id: str, email: str, password: str) -> str:
    """The demo tenant's owner member, active, with this password (reset if it changed)."""
    from chalicelib.members import passwords
    from chalicelib.members import service as members
    from chalicelib.members.models import Member, MemberLogin

    try:
        login = MemberLogin.get(email, tenant_id)
        member = Member.get(tenant_id, login.member_id)
    except DoesNotExist:
        invited = members.invite(tenant_id, {"email": email, "name": "Demo Owner", "role": "owner"},
                                 inviter_role="owner", inviter_id="devstack")
        return members.accept_invite(invited["invite_token"], {"password": password}).member_id
    if member.status != "active" or not passwords.verify_password(password, member.password_hash):
        member.update(actions=[Member.password_hash.set(passwords.hash_password(password)),
                               Member.status.set("active"), Member.locked_until.remove(),
                               Member.failed_logins.set(0)])
    return member.member_id
