"""The mobile H5 landing page shown after a scan: self-contained (inline CSS, images from this host
only), Chinese UI, every operator-supplied string HTML-escaped."""
from __future__ import annotations

from html import escape
from typing import Any

_CSS = """
*{box-sizing:border-box;margin:0;padding:0}
html,body{height:100%}
body{font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei",
"Noto Sans CJK SC",sans-serif;background:#f2f4f7;color:#1f2329;display:flex;justify-content:center;
align-items:flex-start;-webkit-text-size-adjust:100%}
main{width:100%;max-width:480px;padding:20px 16px 28px}
.card{background:#fff;border-radius:14px;box-shadow:0 2px 12px rgba(0,0,0,.06);padding:20px 18px;
text-align:center}
.tag{display:inline-block;font-size:12px;color:#07c160;background:#e8f8ef;border-radius:10px;
padding:2px 10px;margin-bottom:10px}
h1{font-size:20px;line-height:1.4;font-weight:600;word-break:break-word;margin-bottom:6px}
.sub{font-size:14px;color:#646a73;margin-bottom:16px;word-break:break-word}
.qr{display:block;width:min(100%,300px);height:auto;max-height:56vh;object-fit:contain;
margin:0 auto;border-radius:8px;background:#fff;-webkit-touch-callout:default}
.hint{margin-top:14px;font-size:15px;color:#1f2329;font-weight:500}
.hint small{display:block;margin-top:4px;font-size:12px;color:#8f959e;font-weight:400}
.empty{padding:36px 8px}
.empty .icon{font-size:44px;margin-bottom:12px}
.btn{display:block;width:100%;margin-top:12px;padding:12px;border:0;border-radius:8px;
font-size:16px;background:#07c160;color:#fff}
.btn.ghost{background:#f2f4f7;color:#1f2329}
footer{margin-top:16px;text-align:center;font-size:11px;color:#aeb3bb}
"""

KIND_LABEL = {"group": "群聊", "staff": "专属顾问", "url": "链接"}
KIND_HINT = {"group": "长按识别二维码，加入群聊", "staff": "长按识别二维码，添加企业微信好友"}
UNAVAILABLE = {
    "outside-hours": ("当前不在服务时间", "请在服务时间内再次扫码，我们在这里等你。"),
    "disabled": ("活码已停用", "该活码已被运营者停用，请联系活动方获取新的入口。"),
}
BUSY = ("活动太火爆，请稍后再试", "当前名额已满，请稍后再扫码，或联系活动方。")


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1,viewport-fit=cover\">"
            "<meta name=\"referrer\" content=\"no-referrer\">"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
            f"<body><main>{body}<footer>由 鱼塘 Yutang 提供</footer></main></body></html>")


DEFAULT_TITLE = "扫码添加，获取专属服务"  # neutral: a code's internal name is never shown


def public_title(code: Any) -> str:
    """What people see for a code: its public ``title``, else a neutral text (never ``name``)."""
    return code.title or DEFAULT_TITLE


def render_target(code_name: str, kind: str, name: str, image_url: str | None) -> str:
    label = KIND_LABEL.get(kind, "")
    image = (f"<img class=\"qr\" id=\"target-qr\" src=\"{escape(image_url)}\" "
             f"alt=\"{escape(name)} 二维码\">") if image_url else ""
    hint = KIND_HINT.get(kind, "长按识别二维码")
    body = (f"<section class=\"card\"><span class=\"tag\">{escape(label)}</span>"
            f"<h1 id=\"target-name\">{escape(name)}</h1><p class=\"sub\">{escape(code_name)}</p>"
            f"{image}<p class=\"hint\">{escape(hint)}<small>若无法识别，请截图后在微信中扫一扫</small></p>"
            "</section>")
    return _page(name, body)


def render_unavailable(code_name: str, reason: str) -> str:
    title, text = UNAVAILABLE.get(reason, BUSY)
    body = (f"<section class=\"card empty\" id=\"unavailable\"><div class=\"icon\">🐟</div>"
            f"<h1>{escape(title)}</h1><p class=\"sub\">{escape(text)}</p>"
            f"<p class=\"sub\">{escape(code_name)}</p></section>")
    return _page(title, body)


def render_not_found() -> str:
    body = ("<section class=\"card empty\" id=\"not-found\"><div class=\"icon\">🔍</div>"
            "<h1>二维码已失效</h1><p class=\"sub\">没有找到这个活码，"
            "请向活动方确认最新的二维码。</p></section>")
    return _page("二维码已失效", body)


_LOCATE_JS = """(function(){var f=document.getElementById('locate-form'),
b=document.getElementById('locate-use');
function go(p){if(p){f.lat.value=p.coords.latitude;f.lng.value=p.coords.longitude;f.denied.value='';}
f.submit();}
b.hidden=false;b.addEventListener('click',function(){b.disabled=true;
if(!navigator.geolocation){go(null);return;}
navigator.geolocation.getCurrentPosition(go,function(){go(null);},{timeout:10000,maximumAge:600000});});
})();"""


def render_locate(code_name: str, nonce: str) -> str:
    """A store code's first page: asks, with the visitor's consent, for their position and posts it
    back (a form POST to the same address); "跳过" (or no script) posts ``denied`` instead. The one
    inline script carries ``nonce`` (the page's CSP allows only it)."""
    body = ("<section class=\"card\" id=\"locate\"><span class=\"tag\">门店</span>"
            "<h1>为您匹配附近门店</h1><p class=\"sub\">我们将使用您的位置，为您推荐最近门店的专属顾问；"
            f"位置仅用于本次匹配，不会保存。</p><p class=\"sub\">{escape(code_name)}</p>"
            "<form id=\"locate-form\" method=\"post\">"
            "<input type=\"hidden\" name=\"lat\"><input type=\"hidden\" name=\"lng\">"
            "<input type=\"hidden\" name=\"denied\" value=\"1\">"
            "<button type=\"button\" id=\"locate-use\" class=\"btn\" hidden>使用我的位置</button>"
            "<button type=\"submit\" id=\"locate-skip\" class=\"btn ghost\">跳过，直接添加</button>"
            "</form></section>"
            f"<script nonce=\"{escape(nonce)}\">{_LOCATE_JS}</script>")
    return _page("为您匹配附近门店", body)
