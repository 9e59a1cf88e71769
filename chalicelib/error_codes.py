"""Every error code the API answers with (``{"error": {"code": ...}}``), one named constant each.

The wire strings are the contract: never change one. Raise sites use the constants
(``raise NotFound("...", code=TASK_NOT_FOUND)``); tests/unit/test_error_codes.py fails on an inline
string and on a constant nothing uses.
"""

# --- Any route: error class defaults, Chalice's own errors, request parsing, images, fetches ---
# DomainError's default; also Chalice's own BadRequest(Error), renamed (web.py)
BAD_REQUEST = "bad-request"
# Conflict's default: the state forbids the change
CONFLICT = "conflict"
# a CORS preflight from an origin not in YUTANG_CORS_ORIGINS
CORS_ORIGIN_NOT_ALLOWED = "cors-origin-not-allowed"
# a remote fetch (image URL, webhook) failed (fetch.py)
FETCH_FAILED = "fetch-failed"
# a remote fetch to a non-public address, a redirect or a bad scheme (fetch.py)
FETCH_REFUSED = "fetch-refused"
# a remote fetch too slow (fetch.py)
FETCH_TIMEOUT = "fetch-timeout"
# Forbidden's default: the caller may not do this
FORBIDDEN = "forbidden"
# an image over the size cap
IMAGE_TOO_LARGE = "image-too-large"
# an image wider or taller than the cap
IMAGE_TOO_LARGE_DIMENSIONS = "image-too-large-dimensions"
# Chalice's own InternalServerError, renamed (web.py)
INTERNAL_ERROR = "internal-error"
# an image that is not a PNG or JPEG
INVALID_IMAGE = "invalid-image"
# a body that is not JSON, or nests too deep
INVALID_JSON = "invalid-json"
# an empty or over-long tag
INVALID_TAG = "invalid-tag"
# the foreground must be darker than the background: many WeChat scanners cannot read inverted codes
INVERTED_COLORS = "inverted-colors"
# fg and bg have a contrast ratio of …; at least … is needed for phones to scan it
LOW_CONTRAST = "low-contrast"
# Chalice's own MethodNotAllowedError, renamed (web.py)
METHOD_NOT_ALLOWED = "method-not-allowed"
# NotFound's default; also Chalice's own NotFoundError, renamed (web.py)
NOT_FOUND = "not-found"
# PayloadTooLarge's default: a body over the 8 MB cap
PAYLOAD_TOO_LARGE = "payload-too-large"
# RateLimited's default; the public per-IP / per-code token buckets (web.py)
RATE_LIMITED = "rate-limited"
# size … is too small for this code (… modules with quiet zone); use at least …
SIZE_TOO_SMALL = "size-too-small"
# more tags than a field may hold
TOO_MANY_TAGS = "too-many-tags"
# Unauthorized's default: no or unusable credentials
UNAUTHORIZED = "unauthorized"
# unknown query parameter(s): … (this route takes: …)
UNKNOWN_PARAMETER = "unknown-parameter"
# Chalice's own UnsupportedMediaType, renamed (web.py)
UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
# ValidationFailed's default: a request field out of its rules
VALIDATION_ERROR = "validation-error"
# a webhook URL that is not a public address
WEBHOOK_URL_REFUSED = "webhook-url-refused"

# --- Shared by several domains ---
# a write kept losing to concurrent ones (pools, members); retry
CONCURRENT_CHANGE = "concurrent-change"
# no such content item (also when a live code or campaign names one)
CONTENT_NOT_FOUND = "content-not-found"
# the caller's role is below the route's x-required-role, or grants above its own
FORBIDDEN_ROLE = "forbidden-role"
# a list's cursor that is not one this list handed out
INVALID_CURSOR = "invalid-cursor"
# an event type outside 1-48 lower-case letters, digits or _ . : -
INVALID_EVENT_TYPE = "invalid-event-type"
# a campaign message without text or content; a 企业微信 callback that does not decrypt
INVALID_MESSAGE = "invalid-message"

# --- Tenants and API keys (auth/) ---
# the admin API is disabled: YUTANG_ADMIN_KEY is not set
ADMIN_DISABLED = "admin-disabled"
# no such API key
API_KEY_NOT_FOUND = "api-key-not-found"
# a valid admin key is required
INVALID_ADMIN_KEY = "invalid-admin-key"
# missing or malformed API key (Authorization: Bearer yt_…)
INVALID_API_KEY = "invalid-api-key"
# cannot revoke the tenant's last active key; create another first
LAST_API_KEY = "last-api-key"
# no such tenant
TENANT_NOT_FOUND = "tenant-not-found"
# a tenant may hold at most … active keys
TOO_MANY_API_KEYS = "too-many-api-keys"

# --- Team members, sessions, invites (members/) ---
# login with an unknown email or a wrong password
INVALID_CREDENTIALS = "invalid-credentials"
# an email missing or not an address
INVALID_EMAIL = "invalid-email"
# invalid refresh token; log in again
INVALID_REFRESH_TOKEN = "invalid-refresh-token"
# invalid access token
INVALID_TOKEN = "invalid-token"
# an invite link past its expiry (InviteGone)
INVITE_EXPIRED = "invite-expired"
# no such invite (it may have been used already)
INVITE_NOT_FOUND = "invite-not-found"
# a tenant keeps at least one owner: make another member owner first
LAST_OWNER = "last-owner"
# a disabled member gets no link; enable the member first
MEMBER_DISABLED = "member-disabled"
# inviting an email that is already a member of this tenant
MEMBER_EXISTS = "member-exists"
# no such member
MEMBER_NOT_FOUND = "member-not-found"
# DELETE /v1/sessions called with an API key instead of a member's access token
NOT_A_SESSION = "not-a-session"
# this refresh token was already used; the session is revoked for safety; log in again
REFRESH_TOKEN_REUSED = "refresh-token-reused"
# this session has ended; log in again
SESSION_ENDED = "session-ended"
# this email belongs to several tenants: send tenant_id with one of them
TENANT_REQUIRED = "tenant-required"
# the access token has expired; refresh it (POST /v1/sessions/refresh)
TOKEN_EXPIRED = "token-expired"
# a new password that is not a string, too short or too common
WEAK_PASSWORD = "weak-password"
# the current password is wrong (repeated failures lock the account)
WRONG_PASSWORD = "wrong-password"

# --- Live codes (livecodes/) ---
# no such live code
LIVECODE_NOT_FOUND = "livecode-not-found"
# this live code has no logo; PATCH it with 'logo' first
LOGO_NOT_SET = "logo-not-set"
# no such target on this live code
TARGET_NOT_FOUND = "target-not-found"
# a reorder that does not list each of the live code's targets exactly once
TARGET_ORDER_MISMATCH = "target-order-mismatch"
# a live code holds at most … targets
TOO_MANY_TARGETS = "too-many-targets"
# a change to an experiment arm's target while the experiment runs
TARGET_IN_EXPERIMENT = "target-in-experiment"
# the experiment routes of a live code that runs no experiment
NO_EXPERIMENT = "no-experiment"
# an audience rule (tags, stage, targets) out of its rules
INVALID_AUDIENCE_RULE = "invalid-audience-rule"
# an experiment (arms, weights, goal, winner) out of its rules
INVALID_EXPERIMENT = "invalid-experiment"
# a store target's location (lat, lng, radius_m, region) out of its rules
INVALID_STORE = "invalid-store"
# a visitor's posted position: "lat" must be -90..90 and "lng" -180..180
INVALID_LOCATION = "invalid-location"

# --- Media objects (media/) ---
# no such media
MEDIA_NOT_FOUND = "media-not-found"

# --- 企业微信 (wecom/) ---
# EncodingAESKey must be 43 base64 characters
INVALID_AES_KEY = "invalid-aes-key"
# a 企业微信 callback encrypted for another corp id
INVALID_RECEIVER = "invalid-receiver"
# a 企业微信 callback whose signature does not verify
INVALID_SIGNATURE = "invalid-signature"
# the body has no <Encrypt> element
INVALID_XML = "invalid-xml"
# no such 企业微信 contact
WECOM_CONTACT_NOT_FOUND = "wecom-contact-not-found"
# 企业微信 refused the corp id / secret: errcode …: …
WECOM_CREDENTIALS_REJECTED = "wecom-credentials-rejected"
# the tenant has no 企业微信 settings, or no such callback
WECOM_NOT_CONFIGURED = "wecom-not-configured"
# 企业微信 refused a call (its errcode in the message)
WECOM_REJECTED = "wecom-rejected"
# 企业微信 did not answer (retryable)
WECOM_UNAVAILABLE = "wecom-unavailable"

# --- The content library (content/) ---
# the item changed meanwhile; read it again and retry
CONTENT_CHANGED = "content-changed"
# a content item's media of the wrong kind for the item's type
INVALID_MEDIA = "invalid-media"
# a content item's media over the size cap
MEDIA_TOO_LARGE = "media-too-large"
# an item's type cannot change; create a new item
TYPE_IMMUTABLE = "type-immutable"

# --- The audience (audience/) ---
# these identities are being changed concurrently; retry
IDENTITY_BUSY = "identity-busy"
# an identity was registered concurrently
IDENTITY_TAKEN = "identity-taken"
# unknown identity kind …; one of: …
INVALID_IDENTITY = "invalid-identity"
# unknown stage …; one of: …
INVALID_STAGE = "invalid-stage"
# the user has no tag …
TAG_NOT_FOUND = "tag-not-found"
# the users are being changed concurrently; retry
USER_CHANGED = "user-changed"
# no user has … …; create one with POST /v1/users
USER_NOT_FOUND = "user-not-found"

# --- The mini-program API (mp/) ---
# the login code is invalid or was already used; call wx.login again
INVALID_CODE = "invalid-code"
# a mini-program token is required (Authorization: Bearer mp1…)
INVALID_MP_TOKEN = "invalid-mp-token"
# the tenant has no mini-program app id / secret
MP_NOT_CONFIGURED = "mp-not-configured"
# the mini-program token has expired; log in again
MP_TOKEN_EXPIRED = "mp-token-expired"
# WeChat refused the mini-program's app id / secret
WECHAT_MISCONFIGURED = "wechat-misconfigured"
# WeChat is rate limiting logins (100 a minute per user); retry shortly
WECHAT_RATE_LIMITED = "wechat-rate-limited"
# WeChat's API did not answer (retryable)
WECHAT_UNAVAILABLE = "wechat-unavailable"
# a mini-program scene (小程序码, URL Link) that names nothing of the caller's tenant
SCENE_NOT_FOUND = "scene-not-found"
# WeChat answered a mini-program code or link request with an errcode (502; errcode and errmsg given)
WECHAT_REJECTED = "wechat-rejected"

# --- Poster templates (posters/) ---
# a poster layout element that does not fit inside the canvas
LAYOUT_OUTSIDE_CANVAS = "layout-outside-canvas"
# a poster layout element over the QR box (a covered code stops scanning)
LAYOUT_OVERLAPS_QR = "layout-overlaps-qr"
# a poster template whose QR box is too small to scan
QR_BOX_TOO_SMALL = "qr-box-too-small"
# the template's prepared canvas is missing; PATCH the template's layout to prepare it again
TEMPLATE_CANVAS_MISSING = "template-canvas-missing"
# the template is used by fission task(s) …; change or delete them first
TEMPLATE_IN_USE = "template-in-use"
# no such poster template
TEMPLATE_NOT_FOUND = "template-not-found"

# --- Fission tasks (fission/) ---
# a fission task listing one live code twice
DUPLICATE_CODES = "duplicate-codes"
# you have not joined this fission task (POST …/join)
NOT_PARTICIPATING = "not-participating"
# no such participant
PARTICIPANT_NOT_FOUND = "participant-not-found"
# this fission task has ended
TASK_ENDED = "task-ended"
# no such fission task
TASK_NOT_FOUND = "task-not-found"
# changing a field that is fixed once the fission task has started
TASK_STARTED = "task-started"

# --- Campaigns (campaigns/) ---
# the campaign was changed concurrently; read it again and retry
CAMPAIGN_CHANGED = "campaign-changed"
# an after_event campaign sends per user when their event arrives; it has no run to start
CAMPAIGN_EVENT_TRIGGERED = "campaign-event-triggered"
# no such campaign: …
CAMPAIGN_NOT_FOUND = "campaign-not-found"
# the campaign is paused; resume it first
CAMPAIGN_PAUSED = "campaign-paused"
# tag … is both required and excluded
INVALID_AUDIENCE = "invalid-audience"
# a campaign frequency cap that is not an integer in range or null
INVALID_CAPS = "invalid-caps"
# cron … never fires
INVALID_CRON = "invalid-cron"
# quiet hours not {"start": "HH:MM", "end": "HH:MM"}, false or null
INVALID_QUIET_HOURS = "invalid-quiet-hours"
# 'schedule' takes exactly one of 'at', 'cron' or 'after_event'
INVALID_SCHEDULE = "invalid-schedule"
# this link is not valid
LINK_NOT_FOUND = "link-not-found"
# no such run: …
RUN_NOT_FOUND = "run-not-found"
# 'schedule.at' is in the past
SCHEDULE_IN_PAST = "schedule-in-past"
# the webhook channel needs 'webhook_url' (or the tenant's webhook_url, PATCH /v1/tenant)
WEBHOOK_URL_REQUIRED = "webhook-url-required"
# a smart-push message's content pool ("message.pool": {tags_any?, type?}) out of its rules
INVALID_POOL = "invalid-pool"

# --- Analytics (analytics/) ---
# daily totals are kept in the tenant's timezone (…); 'tz' must have the same days, or be left out
UNSUPPORTED_TIMEZONE = "unsupported-timezone"

# --- Exports and imports (portability/) ---
# upload the file to upload_url first
IMPORT_NOT_UPLOADED = "import-not-uploaded"
# inline content is at most … bytes; upload larger files to the upload_url
IMPORT_TOO_LARGE = "import-too-large"

# --- Event webhooks (hooks/) ---
# no such webhook subscription
SUBSCRIPTION_NOT_FOUND = "subscription-not-found"
# a tenant has at most … webhook subscriptions
TOO_MANY_SUBSCRIPTIONS = "too-many-subscriptions"

# --- Entry domains (entry/) ---
# no such entry domain in the tenant's list
ENTRY_DOMAIN_NOT_FOUND = "entry-domain-not-found"
# the domain is listed already
ENTRY_DOMAIN_EXISTS = "entry-domain-exists"
# a tenant lists at most … entry domains
ENTRY_DOMAIN_LIMIT = "entry-domain-limit"

# --- Coupons (coupons/) ---
# a pattern is up to 32 characters of A-Z, 0-9 and - with …
INVALID_COUPON_PATTERN = "invalid-coupon-pattern"
# "…" must be an array of 1-… codes
INVALID_COUPON_CODES = "invalid-coupon-codes"
# "…" holds a code twice
DUPLICATE_COUPON_CODE = "duplicate-coupon-code"
# coupon pool … has no code left
COUPONS_EXHAUSTED = "coupons-exhausted"
# no such coupon pool: …
COUPON_POOL_NOT_FOUND = "coupon-pool-not-found"
# the coupon pool is busy; retry
COUPON_POOL_BUSY = "coupon-pool-busy"
# a pool that has both or neither of "codes" (uploaded) and "generate" ({pattern, count})
INVALID_COUPON_POOL = "invalid-coupon-pool"
# a generated pool makes its own codes
COUPON_POOL_GENERATED = "coupon-pool-generated"
# no granted coupon has this code
COUPON_CODE_NOT_FOUND = "coupon-code-not-found"
# this code was granted to someone else
COUPON_NOT_THEIRS = "coupon-not-theirs"
# the pool changed or a code is already in a pool; retry
COUPON_UPLOAD_CONFLICT = "coupon-upload-conflict"

# --- Journeys (journeys/) ---
# a journey's entry that is not an event, tag_added, stage_changed or audience-at-a-schedule
INVALID_JOURNEY_ENTRY = "invalid-journey-entry"
# a journey's "reentry" out of its rules (mode never / after_days / always)
INVALID_JOURNEY_REENTRY = "invalid-journey-reentry"
# no such journey
JOURNEY_NOT_FOUND = "journey-not-found"
# a change to an archived journey
JOURNEY_ARCHIVED = "journey-archived"
