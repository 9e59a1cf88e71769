"""Tell bots and link previews from people by their User-Agent (pure, no I/O).

Scans by crawlers, link unfurlers, uptime/health checkers, HTTP libraries and WeChat's own URL
checks are answered normally (a preview still shows the right page) but never claim live code
capacity, never get a sticky cookie, and are counted apart (``bot_scans``), out of every number by
default. See docs/insight.md for the sources of these patterns. (The scan path first lets through
any request carrying our signed visit cookie or a mini-program token: those are people.)

Only a client that says what it is counts as a bot: a known family (search crawlers, link previews
of chat apps, uptime and health monitors, page auditors such as Lighthouse) or a string that calls
itself a bot, crawler, spider or link preview. Anything else is a person, on purpose: an empty
User-Agent, curl, python-requests, okhttp or a headless browser is as likely an app's own HTTP
client, a kiosk, a brand's integration or an API check as a robot, and counting those apart would
make capacity, sticky visitors and stats wrong for real users and for the API's own clients.
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
    ("auditor", r"chrome-lighthouse|lighthouse|pagespeed|gtmetrix"),
    ("archive", r"archive\.org_bot|ia_archiver"),
    ("generic", r"(?<!cu)bot[/ ;)_-]|bot$|crawler|spider|scraper|\bslurp\b|externalhit|"
                r"linkexpand|urlpreview|link ?preview"),
)
_FAMILIES = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in FAMILIES)


def classify(user_agent: str | None) -> str | None:
    """The bot family of a User-Agent, or None for a person's browser."""
    ua = (user_agent or "").strip()
    for name, pattern in _FAMILIES:
        if pattern.search(ua):
            return name
    return None


def is_bot(user_agent: str | None) -> bool:
    return classify(user_agent) is not None
