"""Content items as 企业微信 attachments: byte limits and the mapping per type (pure)."""
from chalicelib.content.models import ContentItem
from chalicelib.wecom import attachments


def item(**fields):
    return ContentItem(pk="t#A", sk="c", **fields)


def test_clip_counts_utf8_bytes_and_never_splits_a_character():
    assert attachments.clip("鱼塘" * 100, 7) == "鱼塘"
    assert attachments.clip(None, 10) == "" and attachments.clip("  a  ", 10) == "a"


def test_a_link_needs_a_url_within_limits():
    assert attachments.link("t", None) is None
    assert attachments.link("t", "https://x.example/" + "a" * 2048) is None
    assert attachments.link("", "https://x.example") == {
        "msgtype": "link", "link": {"title": "https://x.example", "url": "https://x.example"}}
    card = attachments.link("标" * 50, "https://x.example", "  ", "https://x.example/p.png")["link"]
    assert card == {"title": "标" * 42, "url": "https://x.example", "picurl": "https://x.example/p.png"}


def test_types_map_to_links_or_text():
    article = item(ctype="article", title="读", url="https://x.example/a", body="摘要")
    assert attachments.for_content(article) == [{"msgtype": "link", "link": {
        "title": "读", "url": "https://x.example/a", "desc": "摘要"}}]
    text = item(ctype="text", title="t", body="回复 1")
    assert attachments.for_content(text) == []
    assert attachments.welcome_text(None, text) == "回复 1"
    assert attachments.welcome_text("你好", text) == "你好"
    assert attachments.welcome_text(None, article) is None
    assert attachments.for_content(item(ctype="miniprogram", title="m", card={"appid": "wx1"})) == []
