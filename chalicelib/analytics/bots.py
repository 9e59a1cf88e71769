"""Tell bots and link previews from people by their User-Agent (pure, no I/O).

Scans by crawlers, link unfurlers, uptime/health checkers, HTTP libraries and WeChat's own URL
checks are answered normally (a preview still shows the right page) but never claim live code
capacity, never get a sticky cookie, and are counted apart (``bot_scans``), out of every number by
default. See docs/insight.md for the sources of these patterns.

Rules, in order:
1. an empty User-Agent is a bot (health checks, scanners);
2. a known family (search crawlers, link previews of chat apps, monitors, headless browsers) is a
   bot, whatever else the string says;
3. a string without the ``Mozilla/`` token every browser sends, and without the token of an app's
   web view (WeChat's MicroMessenger, 企业微信 wxwork, QQ, Alipay, DingTalk, Weibo), is a program,
   not a person: curl, Wget, python-requests,
   Go-http-client, okhttp, Java, ELB-HealthChecker, kube-probe, WhatsApp/…, Dalvik/…
"""
from __future__ import annotations

import re

# (family, pattern) — checked in order; the first match names the bot.
FAMILIES: tuple[tuple[str, str], ...] = (
    ("googlebot", r"googlebot|google-inspectiontool|adsbot-google|mediapartners-google|"
                  r"feedfetcher-google|googleother|google-read-aloud|storebot-google|apis-google"),
    ("google-preview", r"google web preview|googlehc/|google-site-verification"),
    ("bingbot", r"bingbot|bingpreview|msnbot|adidxbot"),
    ("baidu", r"baiduspider"),
    ("sogou", r"sogou (?:web|inst|news|pic) spider|sogouspider"),
    ("360", r"360spider|haosouspider|qihoobot"),
    ("shenma", r"yisouspider|shenmaspider"),
    ("bytedance", r"bytespider|toutiaospider"),
    ("petalbot", r"petalbot"),
    ("yandex", r"yandex(?:bot|images|metrika|mobilebot)"),
    ("duckduckgo", r"duckduckbot|duckassistbot"),
    ("applebot", r"applebot"),
    ("facebook", r"facebookexternalhit|facebot|meta-externalagent|meta-externalfetcher"),
    ("whatsapp", r"^whatsapp/|whatsapp/[\d.]+ [ai]$"),
    ("telegram", r"telegrambot"),  # "TelegramBot (like TwitterBot)": before twitter
    ("twitter", r"twitterbot"),
    ("slack", r"slackbot|slack-imgproxy"),
    ("discord", r"discordbot"),
    ("linkedin", r"linkedinbot"),
    ("skype", r"skypeuripreview|microsoftpreview"),
    ("pinterest", r"pinterestbot|pinterest/0\."),
    ("reddit", r"redditbot"),
    ("embed", r"embedly|iframely|vkshare|snap url preview|bitlybot|outbrain|quora link preview"),
    ("wechat", r"(?:wechat|weixin|mmbiz)[ _-]?(?:bot|spider|preview|crawler|check)"),
    ("seo", r"ahrefsbot|semrushbot|mj12bot|dotbot|blexbot|dataforseobot|serpstatbot|rogerbot"),
    ("ai", r"gptbot|chatgpt-user|oai-searchbot|claudebot|claude-user|anthropic-ai|perplexitybot|"
           r"ccbot|amazonbot"),
    ("monitor", r"uptimerobot|pingdom|statuscake|site24x7|newrelicpinger|datadog|"
                r"elb-healthchecker|kube-probe|amazon-route53-health-check|cloudflare-healthchecks|"
                r"health[ _-]?check|nagios|zabbix|check_http|monitis|better ?uptime"),
    ("headless", r"headlesschrome|phantomjs|puppeteer|playwright|selenium|lighthouse|"
                 r"chrome-lighthouse|pagespeed"),
    ("archive", r"archive\.org_bot|ia_archiver"),
    ("generic", r"(?<!cu)bot[/ ;)_-]|bot$|crawler|spider|scraper|\bslurp\b|externalhit|"
                r"linkexpand|urlpreview|link ?preview"),
)
_FAMILIES = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in FAMILIES)
_BROWSER = re.compile(r"^(?:mozilla/|opera/)|micromessenger|wxwork|mqqbrowser|\bqq/|alipayclient|"
                      r"dingtalk|weibo", re.IGNORECASE)  # browsers and the in-app web views of apps


def classify(user_agent: str | None) -> str | None:
    """The bot family of a User-Agent, or None for a person's browser."""
    ua = (user_agent or "").strip()
    if not ua:
        return "empty"
    for name, pattern in _FAMILIES:
        if pattern.search(ua):
            return name
    if not _BROWSER.search(ua):
        return "program"
    return None


def is_bot(user_agent: str | None) -> bool:
    return classify(user_agent) is not None
