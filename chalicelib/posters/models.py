"""The poster template table.

A template holds its canvas size, its validated layout and three S3 objects: the uploaded
background, and the prepared canvas (background fitted to the canvas, static texts drawn) every
poster starts from. ``fingerprint`` hashes everything that shapes a poster, so a changed template
changes every poster's cache name.

Access patterns:
- GetItem (tenant_id, template_id): API reads and poster renders.
- Query tenant_id: list a tenant's templates.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db import BaseModel


class PosterTemplate(BaseModel):
    class Meta:
        table_name = "poster-templates"

    tenant_id = UnicodeAttribute(hash_key=True)
    template_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    width = NumberAttribute()
    height = NumberAttribute()
    layout = JSONAttribute()
    background_key = UnicodeAttribute()
    base_key = UnicodeAttribute()
    quality = NumberAttribute()
    fingerprint = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
