"""Yutang (鱼塘): Chalice wiring only — blueprints, middleware and thin event handlers."""
from chalice import Chalice, Rate

from chalicelib import cors, httpapi, meta_routes, scheduler, web
from chalicelib.domains import DOMAINS  # each package's routes, consumers, jobs: */domain.py

EVENTS_QUEUE = "yutang-events"
SENDS_QUEUE = "yutang-sends"  # campaign fan-out (Settings.sends_queue)
DATA_QUEUE = "yutang-data"  # export and import jobs (Settings.data_queue)
HOOKS_QUEUE = "yutang-hooks"  # event webhook deliveries (Settings.hooks_queue)


def openapi_document() -> dict:
    from chalicelib import apidoc  # lazy: built on the first query string that needs checking

    return apidoc.document()


app = Chalice(app_name="yutang", configure_logs=False)  # JSON logs: chalicelib/observability.py
for middleware in (web.observe_middleware, web.guard_middleware, web.auth_middleware,
                   web.audit_middleware):
    app.register_middleware(middleware, "http")  # outermost first: log, rate-limit, auth, audit
web.use_openapi(openapi_document)  # the query-parameter check reads the document
app.register_blueprint(meta_routes.routes)  # GET /openapi.json
for domain in DOMAINS:
    if domain.routes is not None:
        app.register_blueprint(domain.routes)
cors.add_preflight_routes(app)  # OPTIONS for every path; allowed origins come from settings


@app.lambda_function(name="public_handler")
def public_handler(event, context):
    return httpapi.handle(app, event, context)  # the public routes behind an HTTP API (cheaper)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def tick(event):
    return scheduler.run_tick(event.time)


@app.on_sqs_message(queue=EVENTS_QUEUE, batch_size=10)
def handle_events(event):
    from chalicelib import dispatcher  # lazy: only the events consumer's container loads it
    dispatcher.dispatch(event)


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
