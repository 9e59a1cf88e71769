"""Per-domain lazy loading for cold starts.

``app.py`` must register every route at import, but a cold container answering a scan should not
execute the code of posters, content, campaigns... Route modules therefore bind their service
lazily, with the real import beside it for readers and mypy::

    if TYPE_CHECKING:
        from chalicelib.content import service
    else:
        service = lazy("chalicelib.content.service")

The module is imported on first attribute access (then it is an ordinary ``sys.modules`` lookup);
``tests/unit/test_domains.py`` checks that every ``lazy`` binding names the module its
TYPE_CHECKING import names. The shared foundation (chalicelib.db → PynamoDB and
botocore, the auth service) is imported eagerly by app.py, inside Lambda's init phase.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name}{' (loaded)' if self._module else ''}>"


def lazy(name: str) -> Any:
    return LazyModule(name)
