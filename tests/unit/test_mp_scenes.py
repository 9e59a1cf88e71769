"""Scenes of mini-program codes: within WeChat's 32 visible characters, parsed back exactly, and
nothing this module did not make parses."""
import pytest

from chalicelib.ids import new_id
from chalicelib.mp import scenes


def test_a_livecode_scene_is_the_slug_behind_an_l():
    scene = scenes.for_livecode("abcdefgh", "23456789")
    assert scene == "Labcdefgh23456789" and scenes.ALLOWED.match(scene)
    assert scenes.parse(scene) == scenes.Scene("livecode", "abcdefgh", code_id="23456789")


def test_a_participant_scene_fills_the_32_characters_with_part_of_the_nonce():
    tenant, task, pid, nonce = new_id(8), new_id(8), new_id(10), new_id(8)
    scene = scenes.for_participant(tenant, task, pid, nonce)
    assert len(scene) == scenes.MAX_LEN and scenes.ALLOWED.match(scene)
    assert scenes.parse(scene) == scenes.Scene("participant", tenant, task_id=task,
                                               participant_id=pid, nonce_part=nonce[:5])


@pytest.mark.parametrize("value", [
    None, "", "L", "Labcdefgh2345678", "Labcdefgh234567892", "labcdefgh23456789", "Pabcdefgh23456789",
    "LABCDEFGH23456789", "Labcdefgh2345678l", "L" + "a" * 40, "Qabcdefgh23456789", "Labcdefgh/3456789"])
def test_anything_else_is_not_a_scene(value):
    assert scenes.parse(value) is None
