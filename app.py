"""Yutang (鱼塘): Chalice wiring only — blueprints, middleware and thin event handlers."""
from chalice import Chalice, Rate

from chalicelib import cors, events, httpapi, scheduler, web
from chalicelib.analytics.routes import routes as analytics_routes
from chalicelib.audience.routes import routes as audience_routes
from chalicelib.auth.routes import routes as auth_routes
from chalicelib.campaigns.routes import routes as campaign_routes
from chalicelib.content.routes import routes as content_routes
from chalicelib.fission.routes import routes as fission_routes
from chalicelib.hooks.routes import routes as hook_routes
from chalicelib.journeys.routes import routes as journey_routes
from chalicelib.livecodes.routes import routes as livecode_routes
from chalicelib.media.routes import routes as media_routes
from chalicelib.members.routes import routes as member_routes
from chalicelib.meta_routes import routes as meta_routes
from chalicelib.mp.routes import routes as mp_routes
from chalicelib.portability.routes import routes as portability_routes
from chalicelib.posters.routes import routes as poster_routes
from chalicelib.wecom.routes import routes as wecom_routes

EVENTS_QUEUE = "yutang-events"
SENDS_QUEUE = "yutang-sends"  # campaign fan-out (Settings.sends_queue)
DATA_QUEUE = "yutang-data"  # export and import jobs (Settings.data_queue)
HOOKS_QUEUE = "yutang-hooks"  # event webhook deliveries (Settings.hooks_queue)

app = Chalice(app_name="yutang", configure_logs=False)  # JSON logs: chalicelib/observability.py
for middleware in (web.observe_middleware, web.guard_middleware, web.auth_middleware,
                   web.audit_middleware):
    app.register_middleware(middleware, "http")  # outermost first: log, rate-limit, auth, audit
for blueprint in (meta_routes, auth_routes, livecode_routes, media_routes, wecom_routes,
                  content_routes, audience_routes, mp_routes, poster_routes, fission_routes,
                  campaign_routes, analytics_routes, portability_routes, hook_routes,
                  member_routes, journey_routes):
    app.register_blueprint(blueprint)
cors.add_preflight_routes(app)  # OPTIONS for every path; allowed origins come from settings


@app.lambda_function(name="public_handler")
def public_handler(event, context):
    return httpapi.handle(app, event, context)  # the public routes behind an HTTP API (cheaper)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def tick(event):
    return scheduler.run_tick(event.time)


@app.on_sqs_message(queue=EVENTS_QUEUE, batch_size=10)
def handle_events(event):
    events.dispatch(event)


@app.on_sqs_message(queue=SENDS_QUEUE, batch_size=10)
def handle_sends(event):
    from chalicelib.campaigns import dispatch  # lazy: only the sender's container loads it
    dispatch.handle_messages(event)


@app.on_sqs_message(queue=DATA_QUEUE, batch_size=1)
def handle_data_jobs(event):
    from chalicelib.portability import jobs  # lazy: only the data worker's container loads it
    jobs.handle_messages(event)


@app.on_sqs_message(queue=HOOKS_QUEUE, batch_size=10)
def handle_hook_deliveries(event):
    from chalicelib.hooks import delivery  # lazy: only the webhook sender's container loads it
    delivery.handle_messages(event)
