"""OpenAPI paths for poster templates."""
from chalicelib.openapi import list_of, op, path_param, query_param, ref

TAG = "posters"
_BOX = {"type": "integer", "minimum": 0, "maximum": 2160}
_TEXT_BOX = {"x": _BOX, "y": _BOX, "font_size": {"type": "integer", "minimum": 12, "maximum": 200},
             "color": {"type": "string", "example": "#1a2b3c"},
             "max_width": {"type": "integer", "description": "box width; longer text ends in …"},
             "align": {"enum": ["left", "center", "right"], "default": "left"}}
SCHEMAS = {
    "PosterLayout": {"type": "object", "additionalProperties": False, "required": ["qr"],
                     "description": "Boxes in canvas pixels (origin top left). Every box must lie "
                                    "inside the canvas and none may overlap the QR box.",
                     "properties": {
        "qr": {"type": "object", "required": ["x", "y", "size"], "additionalProperties": False,
               "properties": {"x": _BOX, "y": _BOX, "size": {"type": "integer", "minimum": 160,
                                                             "description": "includes the quiet zone"}}},
        "avatar": {"type": "object", "required": ["x", "y", "size"], "additionalProperties": False,
                   "properties": {"x": _BOX, "y": _BOX, "size": {"type": "integer", "minimum": 16},
                                  "shape": {"enum": ["circle", "square"], "default": "circle"}}},
        "nickname": {"type": "object", "required": ["x", "y", "font_size", "max_width"],
                     "additionalProperties": False, "properties": _TEXT_BOX},
        "texts": {"type": "array", "maxItems": 10, "items": {
            "type": "object", "required": ["text", "x", "y", "font_size", "max_width"],
            "additionalProperties": False,
            "properties": {"text": {"type": "string", "maxLength": 100}, **_TEXT_BOX}}}}},
    "PosterTemplateInput": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string", "maxLength": 100},
        "background": {"type": "string", "description": "base64 PNG/JPEG, ≤ 2 MB, ≤ 4096 px a side; "
                                                        "fitted (cropped) to the canvas"},
        "width": {"type": "integer", "minimum": 240, "maximum": 2160, "example": 1080},
        "height": {"type": "integer", "minimum": 240, "maximum": 2160, "example": 1920},
        "layout": {"$ref": "#/components/schemas/PosterLayout"}}},
    "PosterTemplate": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "width": {"type": "integer"},
        "height": {"type": "integer"}, "layout": {"$ref": "#/components/schemas/PosterLayout"},
        "background_url": {"type": "string"}, "preview_url": {"type": "string"},
        "jpeg_quality": {"type": "integer",
                         "description": "chosen so a poster stays ≤ 300 KB at 1080x1920"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"}}},
}
_ID = path_param("template_id", "poster template id")
_JPEG = {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}
PATHS = {
    "/v1/poster-templates": {
        "post": op("Create a poster template", TAG, body=ref("PosterTemplateInput"), ok=201,
                   response=ref("PosterTemplate"), errors=(400, 413),
                   description="`name`, `background`, `width`, `height` and `layout` are required."),
        "get": op("List poster templates", TAG, response=list_of(ref("PosterTemplate")),
                  params=[query_param("limit", {"type": "integer"}), query_param("cursor")]),
    },
    "/v1/poster-templates/{template_id}": {
        "get": op("Get a poster template", TAG, params=[_ID], response=ref("PosterTemplate")),
        "patch": op("Update a poster template", TAG, params=[_ID], body=ref("PosterTemplateInput"),
                    response=ref("PosterTemplate"), errors=(400, 404, 413),
                    description="Posters already rendered from it are rendered again on request."),
        "delete": op("Delete a poster template", TAG, params=[_ID], ok=204, errors=(404, 409),
                     description="409 `template-in-use` while a fission task uses it."),
    },
    "/v1/poster-templates/{template_id}/preview": {
        "get": op("Preview a poster template", TAG, params=[_ID], content=_JPEG,
                  description="A poster rendered with a sample nickname, avatar and invite URL."),
    },
}
