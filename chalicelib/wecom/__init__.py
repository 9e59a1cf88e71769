"""企业微信 (WeCom) integration: per-tenant settings, the shared API client, 「联系我」 contact ways
and group join ways behind live code targets, event callbacks and customer attribution.

Modules: ``crypto`` (WXBizMsgCrypt), ``vault`` (secrets at rest), ``models``, ``settings_service``
(integration settings), ``client`` (the one API client), ``targets`` (input parsing), ``ways``
(live code hooks), ``callbacks`` (the callback route's work and its SQS consumer), ``attribution``,
``routes``/``spec`` (HTTP).
"""
