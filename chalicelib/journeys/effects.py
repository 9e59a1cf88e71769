"""Tag effects of a tag step as transaction items: the user item and its tag postings, written in
the step's own transaction (the audience's layout: :mod:`chalicelib.audience.models`)."""
from __future__ import annotations

from chalicelib.audience import store as audience_store
from chalicelib.audience.models import AudienceItem

_LIVE = "attribute_exists(sk) AND attribute_not_exists(merged_into)"


def tag_items(tenant_id: str, user_id: str, add: list[str], remove: list[str]) -> list[dict]:
    table = AudienceItem.table_name()
    key = {"tenant_id": {"S": tenant_id}, "sk": {"S": AudienceItem.user_key(user_id)}}
    tags = {"SS": add or remove}
    if add:
        expr, names = "ADD #m :t, #r :one", {"#m": "manual_tags", "#r": "rev"}
    else:
        expr, names = "DELETE #m :t, #c :t ADD #r :one", {"#m": "manual_tags", "#c": "channel_tags",
                                                          "#r": "rev"}
    items = [{"Update": {"TableName": table, "Key": key, "UpdateExpression": expr,
                         "ConditionExpression": _LIVE, "ExpressionAttributeNames": names,
                         "ExpressionAttributeValues": {":t": tags, ":one": {"N": "1"}}}}]
    for tag in add:
        posting = audience_store.posting(tenant_id, tag, user_id)
        items.append({"Put": {"TableName": table, "Item": posting.serialize()}})
    for tag in remove:
        items.append({"Delete": {"TableName": table, "Key": {
            "tenant_id": {"S": tenant_id}, "sk": {"S": AudienceItem.tag_key(tag, user_id)}}}})
    return items
