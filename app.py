"""Yutang (鱼塘): Chalice wiring only — blueprints, middleware and thin event handlers."""
from chalice import Chalice, Rate

from chalicelib import events, scheduler, web
from chalicelib.auth.routes import routes as auth_routes
from chalicelib.livecodes.routes import routes as livecode_routes
from chalicelib.media.routes import routes as media_routes
from chalicelib.meta_routes import routes as meta_routes

EVENTS_QUEUE = "yutang-events"

app = Chalice(app_name="yutang")
app.register_middleware(web.auth_middleware, "http")
for blueprint in (meta_routes, auth_routes, livecode_routes, media_routes):
    app.register_blueprint(blueprint)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def tick(event):
    return scheduler.run_tick()


@app.on_sqs_message(queue=EVENTS_QUEUE, batch_size=10)
def handle_events(event):
    events.dispatch(event)
