"""The public routes through the HTTP API adapter, answered by the real app (moto behind it)."""
import base64
import json

from tests.unit.test_httpapi import v2_event


def test_the_app_answers_a_scan_and_media_through_the_adapter(aws_stack, tenant):
    import app as app_module
    from chalicelib.livecodes import service
    from tests.support.images import png_b64

    code = service.create(tenant["tenant_id"], {"name": "h", "channel": "http-api", "targets": [
        {"kind": "group", "name": "g", "image": png_b64()}]})
    scan = app_module.public_handler(v2_event(
        "GET /s/{slug}", f"/s/{code['slug']}", {"slug": code["slug"]},
        headers={"accept": "application/json", "user-agent": "MicroMessenger"}), None)
    assert scan["statusCode"] == 200 and json.loads(scan["body"])["target"]["name"] == "g"
    assert scan["cookies"][0].startswith(f"yt_{code['id']}=")
    again = app_module.public_handler(v2_event(
        "GET /s/{slug}", f"/s/{code['slug']}", {"slug": code["slug"]},
        headers={"accept": "application/json"}, cookies=[scan["cookies"][0].split(";")[0]]), None)
    assert json.loads(again["body"])["returning"] is True
    image_path = code["targets"][0]["image_url"].replace("http://testserver", "")
    _, tenant_id, folder, name = image_path.split("/", 3)[0:1] + image_path.split("/")[2:]
    media = app_module.public_handler(v2_event(
        "GET /m/{tenant}/{folder}/{name}", image_path,
        {"tenant": tenant_id, "folder": folder, "name": name},
        headers={"accept": "image/avif,image/webp,*/*;q=0.8"}), None)
    assert media["statusCode"] == 200 and media["isBase64Encoded"]
    assert base64.b64decode(media["body"]).startswith(b"\x89PNG")
    missing = app_module.public_handler(v2_event("GET /s/{slug}", "/s/x", {"slug": "x"},
                                                 headers={"accept": "application/json"}), None)
    assert missing["statusCode"] == 404 and json.loads(missing["body"])["error"]["code"]
