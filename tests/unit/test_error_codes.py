"""Error codes are named constants (chalicelib/error_codes.py): no raise site, error class or error
body in chalicelib/ spells a code inline, every constant is unique and each is used."""
import ast
from pathlib import Path

from chalicelib import error_codes

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "chalicelib" / "error_codes.py"
ERROR_CLASSES = {"DomainError", "ValidationFailed", "Unauthorized", "Forbidden", "NotFound",
                 "Conflict", "PayloadTooLarge", "RateLimited", "CryptoError"}


def _modules():
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        if path != REGISTRY:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _literals(node):
    """String literals a code expression may evaluate to (both branches of ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def inline_codes(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            values = [kw.value for kw in node.keywords if kw.arg == "code"]
            if name in ERROR_CLASSES:
                values += node.args[1:]  # the message is the only other positional argument
            found += [(node.lineno, s) for value in values for s in _literals(value)]
        elif isinstance(node, ast.ClassDef):
            found += [(stmt.lineno, s) for stmt in node.body if isinstance(stmt, ast.Assign)
                      and [getattr(t, "id", None) for t in stmt.targets] == ["code"]
                      for s in _literals(stmt.value)]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if getattr(key, "value", None) == "error" and isinstance(value, ast.Dict):
                    found += [(node.lineno, s) for k, v in zip(value.keys, value.values, strict=True)
                              if getattr(k, "value", None) == "code" for s in _literals(v)]
    return found


def test_the_check_sees_each_kind_of_inline_code():
    sample = ast.parse('raise NotFound("x", code="a")\nraise CryptoError("x", "b")\n'
                       'f(code="c" if x else NAME)\nclass E(DomainError):\n    code = "d"\n'
                       'r = {"error": {"code": "e", "message": "m"}}\nraise NotFound("x", code=NAME)\n')
    assert sorted(s for _, s in inline_codes(sample)) == ["a", "b", "c", "d", "e"]


def test_no_error_code_is_spelled_inline():
    offenders = [f"{path.relative_to(ROOT)}:{line}: {code!r}" for path, tree in _modules()
                 for line, code in inline_codes(tree)]
    assert offenders == [], "use chalicelib/error_codes.py (python3 registry-codemod.py rewrites them)"


def _constants() -> dict[str, str]:
    tree = ast.parse(REGISTRY.read_text(encoding="utf-8"))
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)}


def test_each_constant_is_unique_named_after_its_code_and_used():
    constants = _constants()
    assert len(constants) >= 100
    assert len(set(constants.values())) == len(constants), "two constants share a code"
    for name, code in constants.items():
        assert name == code.upper().replace("-", "_"), name
        assert getattr(error_codes, name) == code
    used = {alias.name for _, tree in _modules() for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "chalicelib.error_codes"
            for alias in node.names}
    assert sorted(set(constants) - used) == [], "constants nothing raises"
