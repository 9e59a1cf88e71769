"""HTTP routes for fission tasks (marketer API), the participant's own pages (public, by key) and
the mini-program user's own participation (/mp/v1, mini-program token)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib import validate as v
from chalicelib.http import created, header, json_body, json_response, no_content, prefers_json, query
from chalicelib.lazy import lazy
from chalicelib.web import Routes, tenant_id

routes = Routes(__name__)
if TYPE_CHECKING:  # the edges, for readers and mypy; at run time each loads on first use
    from chalicelib.fission import page, participants, progress, rewards, tasks
else:
    page = lazy("chalicelib.fission.page")
    tasks = lazy("chalicelib.fission.tasks")
    participants = lazy("chalicelib.fission.participants")
    progress = lazy("chalicelib.fission.progress")
    rewards = lazy("chalicelib.fission.rewards")


def _limit(default: int = 20) -> int:
    return v.page_limit(query(routes.current_request), default)


def _cursor() -> str | None:
    return query(routes.current_request).get("cursor")


@routes.route("/v1/fission-tasks", methods=["POST"])
def create_fission_task():
    request = routes.current_request
    return created(tasks.create_task(tenant_id(request), json_body(request)))


@routes.route("/v1/fission-tasks", methods=["GET"])
def list_fission_tasks():
    return json_response(tasks.list_tasks(tenant_id(routes.current_request), _limit(), _cursor()))


@routes.route("/v1/fission-tasks/{task_id}", methods=["GET"])
def get_fission_task(task_id):
    return json_response(tasks.get_task(tenant_id(routes.current_request), task_id))


@routes.route("/v1/fission-tasks/{task_id}", methods=["PATCH"])
def update_fission_task(task_id):
    request = routes.current_request
    return json_response(tasks.update_task(tenant_id(request), task_id, json_body(request)))


@routes.route("/v1/fission-tasks/{task_id}", methods=["DELETE"])
def delete_fission_task(task_id):
    tasks.delete_task(tenant_id(routes.current_request), task_id)
    return no_content()


@routes.route("/v1/fission-tasks/{task_id}/participants", methods=["POST"])
def create_participant(task_id):
    request = routes.current_request
    view, is_new = participants.register(tenant_id(request), task_id, json_body(request))
    return created(view) if is_new else json_response(view)


@routes.route("/v1/fission-tasks/{task_id}/participants", methods=["GET"])
def list_participants(task_id):
    suspicious = v.boolean(query(routes.current_request), "suspicious", default=False)
    return json_response(participants.list_participants(tenant_id(routes.current_request), task_id,
                                                        _limit(), _cursor(), suspicious))


@routes.route("/v1/fission-tasks/{task_id}/participants/{participant_id}", methods=["GET"])
def get_participant(task_id, participant_id):
    return json_response(participants.get_participant(tenant_id(routes.current_request), task_id,
                                                      participant_id))


@routes.route("/v1/fission-tasks/{task_id}/leaderboard", methods=["GET"])
def get_leaderboard(task_id):
    return json_response(participants.leaderboard(tenant_id(routes.current_request), task_id,
                                                  _limit(10)))


@routes.route("/v1/fission-tasks/{task_id}/rewards", methods=["GET"])
def list_rewards(task_id):
    return json_response(rewards.rewards(tenant_id(routes.current_request), task_id, _limit(),
                                         _cursor()))


@routes.route("/v1/fission-tasks/{task_id}/stats", methods=["GET"])
def get_fission_stats(task_id):
    return json_response(tasks.stats(tenant_id(routes.current_request), task_id))


@routes.route("/v1/fission-tasks/{task_id}/reward-codes", methods=["POST"])
def add_reward_codes(task_id):
    request = routes.current_request
    return created(tasks.add_codes(tenant_id(request), task_id, json_body(request)))


@routes.route("/v1/fission-tasks/{task_id}/reward-codes", methods=["GET"])
def list_reward_codes(task_id):
    return json_response(tasks.list_codes(tenant_id(routes.current_request), task_id, _limit(),
                                          _cursor()))


@routes.route("/mp/v1/fission-tasks/{task_id}/join", methods=["POST"])
def join_fission_task(task_id):
    request = routes.current_request
    view, is_new = progress.mp_join(tenant_id(request), task_id, request.context["yutang_mp_user_id"],
                                    json_body(request))
    return created(view) if is_new else json_response(view)


@routes.route("/mp/v1/fission-tasks/{task_id}/me", methods=["GET"])
def get_my_participation(task_id):
    request = routes.current_request
    return json_response(progress.mp_participation(tenant_id(request), task_id,
                                                    request.context["yutang_mp_user_id"]))


@routes.route("/p/{key}", methods=["GET"])
def get_progress(key):
    request = routes.current_request
    view, set_cookie = progress.progress(key, header(request, "Cookie"))
    cookie = {"Set-Cookie": set_cookie} if set_cookie else {}
    if prefers_json(header(request, "Accept")):
        return json_response(view, headers=cookie)
    return page.html_response(page.render_progress(view), cookie)


@routes.route("/p/{key}/poster", methods=["GET"])
def get_poster(key):
    return Response(body=progress.poster_for_key(key), status_code=200,
                    headers={"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=300",
                             "X-Content-Type-Options": "nosniff"})
