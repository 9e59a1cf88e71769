"""Package the Chalice app for a Lambda Python version other than the interpreter running CDK.

Chalice picks the Lambda runtime from the Python it runs on (3.11 in the project's .venv) and asks
pip for manylinux wheels without ``--python-version``, so pip only finds wheels for that Python.
These two small patches make ``chalice package`` (which ``chalice.cdk`` calls) target
``python3.12``: the runtime in the template, and the interpreter version of the wheels pip fetches
(Pillow's compiled modules, for one). ``infra/verify.py`` checks the result in the bundle.
"""
from __future__ import annotations

from typing import Any

_patched: list[str] = []


def target_python(version: str) -> None:
    """Make Chalice build for Lambda's ``python<version>`` (e.g. "3.12")."""
    from chalice import config
    from chalice.deploy import packager

    config.Config.lambda_python_version = property(lambda self: f"python{version}")
    if _patched:
        _patched[0] = version
        return
    _patched.append(version)
    original = packager.PipRunner._execute

    def _execute(self: Any, command: str, args: list[str], env_vars: Any = None,
                 shim: Any = None) -> Any:
        if command == "download" and "--abi" in args and "--python-version" not in args:
            args = ["--python-version", _patched[0], *args]
        return original(self, command, args, env_vars=env_vars, shim=shim)

    packager.PipRunner._execute = _execute
