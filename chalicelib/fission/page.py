"""The participant's own H5 page: their poster (long-press to save or share) and their progress.
Self-contained, Chinese UI, every stored string HTML-escaped."""
from __future__ import annotations

from html import escape

from chalice import Response

from chalicelib.settings import get_settings

_CSS = """
*{box-sizing:border-box;margin:0;padding:0}
body{font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei",
"Noto Sans CJK SC",sans-serif;background:#f2f4f7;color:#1f2329;-webkit-text-size-adjust:100%}
main{max-width:480px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:14px;box-shadow:0 2px 12px rgba(0,0,0,.06);padding:16px;
text-align:center;margin-bottom:14px}
h1{font-size:18px;font-weight:600;margin-bottom:8px;word-break:break-word}
.bar{height:10px;border-radius:5px;background:#e8eaed;overflow:hidden;margin:10px 0 6px}
.bar i{display:block;height:100%;background:#07c160}
.num{font-size:15px;color:#646a73}.num b{color:#07c160;font-size:20px}
.reward{margin-top:10px;font-size:15px;color:#1f2329;word-break:break-word}
.code{display:inline-block;margin-top:6px;padding:4px 12px;border:1px dashed #07c160;border-radius:6px;
font-family:ui-monospace,monospace;font-size:16px;user-select:all}
img{display:block;width:100%;height:auto;border-radius:10px}
.hint{font-size:13px;color:#8f959e;margin-top:10px}
"""


def render_progress(view: dict) -> str:
    task = view["task"]
    goal, invites = task["goal"], view["invites"]
    pct = min(100, int(invites * 100 / goal)) if goal else 100
    if view["rewarded"]:
        reward = view["reward"] or {}
        lines = ["<p class=\"reward\">🎉 任务完成！" + escape(reward.get("message") or "") + "</p>"]
        if reward.get("code"):
            lines.append(f"<span class=\"code\">{escape(reward['code'])}</span>")
        status = "".join(lines)
    elif task["status"] == "ended":
        status = "<p class=\"reward\">活动已结束</p>"
    elif task["status"] == "scheduled":
        status = "<p class=\"reward\">活动尚未开始，开始后好友扫码才会计入助力</p>"
    else:
        status = f"<p class=\"reward\">再邀请 {view['remaining']} 位好友即可完成任务</p>"
    return (
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{escape(task['name'])}</title><style>{_CSS}</style></head><body><main>"
        f"<div class=\"card\"><h1>{escape(task['name'])}</h1>"
        f"<p class=\"num\">已邀请 <b>{invites}</b> / {goal} 位好友</p>"
        f"<div class=\"bar\"><i style=\"width:{pct}%\"></i></div>{status}</div>"
        f"<div class=\"card\"><img src=\"{escape(view['poster_url'])}\" alt=\"我的专属海报\">"
        "<p class=\"hint\">长按海报保存或发送给好友，好友扫码即为你助力</p></div>"
        "</main></body></html>")


def html_response(body: str, extra: dict | None = None) -> Response:
    csp = (f"default-src 'none'; img-src 'self' {get_settings().public_url}; "
           "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
               "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", **(extra or {})}
    return Response(body=body, status_code=200, headers=headers)
