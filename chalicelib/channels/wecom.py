"""The 企业微信 channel: customer mass messages (``externalcontact/add_msg_template``), up to
10,000 external_userids a call, through the shared client (token cache, errcode mapping).

One call per batch (per distinct message: smart push may choose several items for one batch):
企业微信 turns each call into one task the staff member confirms, so batches are
large. A mass message has one text for everyone, so its links are tracked per run (clicks are
counted; the clicking user is not known). ``fail_list`` ids are recorded as failed
(``wecom_unreachable``); a rejected call fails the batch (``wecom_errcode_<n>``); a retryable one
(busy, frequency limit, transport) raises so the batch is retried later."""
from __future__ import annotations

from chalicelib.channels import Delivery, Recipient, Report

IDEMPOTENT = False
NEEDS_PROFILE = True
IDENTITY = "external_userid"
MAX_IDS = 10_000


def attachments(content: dict | None) -> list[dict]:
    if not content or not content.get("url"):
        return []
    link = {"title": (content.get("title") or content["url"])[:128], "url": content["url"]}
    return [{"msgtype": "link", "link": link}]


def send(delivery: Delivery, recipients: list[Recipient], report: Report) -> None:
    for group in _same_message(recipients):
        _send_group(delivery, group, report)


def _same_message(recipients: list[Recipient]) -> list[list[Recipient]]:
    """Recipients by the message they get (one group, unless smart push chose items per person)."""
    groups: dict[tuple, list[Recipient]] = {}
    for r in recipients:
        content = r.content or {}
        groups.setdefault((r.text, content.get("title"), content.get("url")), []).append(r)
    return list(groups.values())


def _send_group(delivery: Delivery, recipients: list[Recipient], report: Report) -> None:
    from chalicelib.wecom import client, integration
    from chalicelib.wecom.integration import NotConfigured

    first = recipients[0]
    text = first.text or ((first.content or {}).get("title"))
    for start in range(0, len(recipients), MAX_IDS):
        part = recipients[start:start + MAX_IDS]
        by_id = {r.identities["external_userid"]: r.user_id for r in part}
        try:
            answer = client.add_msg_template(integration.load(delivery.tenant_id),
                                             external_userids=list(by_id),
                                             text=text, attachments=attachments(first.content))
        except NotConfigured:
            for r in part:
                report(r.user_id, False, "wecom_not_configured", None)
            continue
        except client.WecomRejected as exc:
            if exc.retryable:
                raise
            for r in part:
                report(r.user_id, False, f"wecom_errcode_{exc.errcode}", exc.errmsg[:200])
            continue
        failed = set(answer.get("fail_list") or [])
        for external_id, user_id in by_id.items():
            ok = external_id not in failed
            report(user_id, ok, None if ok else "wecom_unreachable", answer.get("msgid"))
