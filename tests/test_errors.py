"""One exception table (issue #24): every error class in shsync/errors.py, every code defined
once there with its exit code and HTTP status, and every code shsync raises one of them.

The source is read, not run: a code at a raise site no test reaches is still checked.
"""

from __future__ import annotations

import ast
import builtins
from collections import Counter
from pathlib import Path

import pytest

from shsync import errors
from shsync.errors import CODES, Code, ShsyncError, UnknownCode

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shsync"
ERRORS_PY = PACKAGE / "errors.py"

# Exception classes that stay where they are, and why.
KEPT = {
    # Control flow, caught in the module that raises it, never an error a user sees.
    "_Stop": "yamlload: the rest of the file cannot be read; becomes a LoadError there",
    "_Decline": "fastload: the text is for the authoritative loader; never an error",
    "Unwritten": "cli: carries the OSError of a failed write past click, reported as "
                 "output-failed by the CLI's outer handler",
    # A value error of the clock's parsers; each caller decides what it is (a diagnostic of an
    # org file, or time-out-of-range).
    "OutOfRange": "model.clock: a ValueError, caught by its callers",
}

# Raise sites whose code is not a literal, and why that is sound.
INDIRECT = {
    ("stores/remote.py", "_problem"): "the server's code: in the table or kept as the server's",
    ("core/break_glass.py", "_text"): "its callers' literals are checked (a `code` parameter)",
    ("jobs/app.py", "_plan_from"): "the code of an InvalidPlan already made",
}


def _modules() -> list[tuple[str, ast.Module]]:
    return [(p.relative_to(PACKAGE).as_posix(), ast.parse(p.read_text(encoding="utf-8")))
            for p in sorted(PACKAGE.rglob("*.py"))]


MODULES = _modules()


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else \
        node.attr if isinstance(node, ast.Attribute) else None


def _exception_classes() -> dict[str, tuple[str, ast.ClassDef]]:
    """Every exception class of the package, by name: (its module, its definition)."""
    classes = {node.name: (path, node) for path, tree in MODULES for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)}
    found: dict[str, tuple[str, ast.ClassDef]] = {}

    def is_exception(name: str, seen: frozenset[str] = frozenset()) -> bool:
        builtin = getattr(builtins, name, None)
        if isinstance(builtin, type) and issubclass(builtin, BaseException):
            return True
        if name not in classes or name in seen:
            return False
        return any(is_exception(b, seen | {name}) for b in
                   filter(None, map(_name, classes[name][1].bases)))

    for name, (path, node) in classes.items():
        if is_exception(name):
            found[name] = (path, node)
    return found


EXCEPTIONS = _exception_classes()


def _code_position(name: str) -> int | None:
    """Where an error class takes its code among its constructor's positional arguments."""
    while name in EXCEPTIONS:
        node = EXCEPTIONS[name][1]
        init = next((s for s in node.body if isinstance(s, ast.FunctionDef)
                     and s.name == "__init__"), None)
        if init is not None:
            params = [a.arg for a in init.args.args[1:]]
            return params.index("code") if "code" in params else None
        name = next(filter(None, map(_name, node.bases)), "")
    return None


def _enclosing(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node's innermost function."""
    owner: dict[ast.AST, str] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                owner[node] = fn.name  # inner functions are walked later and win
    return owner


def _code_parameters() -> dict[str, set[int | str]]:
    """Functions of the package that hand a parameter of theirs to an error as its code (and
    the server's `problem`, which answers with one): name -> its positions and names."""
    taking: dict[str, set[int | str]] = {}
    for path, tree in MODULES:
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    or fn.name == "__init__":
                continue
            params = [a.arg for a in fn.args.args]
            if params and params[0] in ("self", "cls"):
                params = params[1:]
            handed = {"code"} if (path, fn.name) == ("server/problems.py", "problem") else set()
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and _name(call.func) in EXCEPTIONS:
                    position = _code_position(_name(call.func) or "")
                    given = next((k.value for k in call.keywords if k.arg == "code"), None)
                    if given is None and position is not None and len(call.args) > position:
                        given = call.args[position]
                    if isinstance(given, ast.Name):
                        handed.add(given.id)
            for i, p in enumerate(params):
                if p in handed:
                    taking.setdefault(fn.name, set()).update({i, p})
            for a in fn.args.kwonlyargs:
                if a.arg in handed:
                    taking.setdefault(fn.name, set()).add(a.arg)
    return taking


def _docstrings(tree: ast.Module) -> set[ast.AST]:
    return {n.body[0].value for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr)}


def _written(literal: ast.Constant) -> str:
    """The code a literal writes. One that is no string (`code = 5`) is kept, as its repr, which
    names no code: the table's test then names it instead of the scan passing over it."""
    return literal.value if isinstance(literal.value, str) else repr(literal.value)


def _codes_in_source() -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
    """(every code written in the source: (module, line, code); every raise site whose code is
    not a literal: (module, line, function))."""
    taking = _code_parameters()
    found: list[tuple[str, int, str]] = []
    indirect: list[tuple[str, int, str]] = []
    for path, tree in MODULES:
        owner = _enclosing(tree)
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in EXCEPTIONS:
                for stmt in node.body:  # code = "..."
                    assigned: ast.expr | None  # `code: str` alone assigns nothing
                    if isinstance(stmt, ast.Assign):
                        target, assigned = stmt.targets[0], stmt.value
                    elif isinstance(stmt, ast.AnnAssign):
                        target, assigned = stmt.target, stmt.value
                    else:
                        continue
                    if isinstance(target, ast.Name) and target.id == "code" \
                            and isinstance(assigned, ast.Constant):
                        found.append((path, stmt.lineno, _written(assigned)))
            elif isinstance(node, ast.Call) and (called := _name(node.func)) is not None:
                if called in EXCEPTIONS:
                    position = _code_position(called)
                    given = next((k.value for k in node.keywords if k.arg == "code"), None)
                    if given is None and position is not None and len(node.args) > position:
                        given = node.args[position]
                    if isinstance(given, ast.Constant):
                        found.append((path, node.lineno, _written(given)))
                    elif given is not None:
                        indirect.append((path, node.lineno, owner.get(node, "<module>")))
                elif called in taking:  # a function that takes a code: its literals
                    wanted = taking[called]
                    args = [a for i, a in enumerate(node.args) if i in wanted]
                    args += [k.value for k in node.keywords if k.arg in wanted]
                    found += [(path, node.lineno, a.value) for a in args
                              if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            elif isinstance(node, ast.Subscript) and _name(node.value) == "CODES" \
                    and isinstance(node.slice, ast.Constant):  # CODES["..."]
                found.append((path, node.lineno, _written(node.slice)))
            elif isinstance(node, ast.Dict):  # {"code": "...", ...}: an error of an envelope
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "code" \
                            and isinstance(value, ast.Constant):
                        found.append((path, node.lineno, _written(value)))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node not in docs and "error[" in node.value:  # written by hand
                name = node.value.split("error[", 1)[1].split("]", 1)[0]
                if name and "{" not in name:
                    found.append((path, node.lineno, name))
            elif isinstance(node, ast.FunctionDef) and node.name == "refusal":
                # approvals.refusal(): (code, message), raised by a store as the code's class
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple):
                        first = ret.value.elts[0]
                        assert isinstance(first, ast.Constant), (path, ret.lineno)
                        found.append((path, ret.lineno, _written(first)))
    return found, indirect


FOUND, INDIRECT_SITES = _codes_in_source()


def test_the_scan_sees_the_raise_sites():
    # A scan that found nothing would pass everything: these are known to be there.
    seen = {code for _, _, code in FOUND}
    assert {"invalid-time", "bad-store", "usage", "roster-refused", "self-approval",
            "break-glass-no-reason", "invalid-reason", "invalid-request", "internal",
            "partly-applied", "output-failed"} <= seen
    assert len(FOUND) > 100


def test_every_code_written_in_the_source_is_in_the_table():
    unknown = sorted((path, line, code) for path, line, code in FOUND if code not in CODES)
    assert unknown == []


def test_a_raise_site_whose_code_is_not_written_there_is_known():
    sites = {(path, fn) for path, _, fn in INDIRECT_SITES}
    assert sites <= set(INDIRECT), sorted(sites - set(INDIRECT))
    assert {fn for _, fn in INDIRECT} <= {fn for _, fn in sites}, "a stale entry in INDIRECT"


def test_no_code_is_defined_twice():
    names = [node.args[0].value for node in ast.walk(ast.parse(ERRORS_PY.read_text()))
             if isinstance(node, ast.Call) and _name(node.func) == "Code"
             and isinstance(node.args[0], ast.Constant)]
    assert len(names) == len(CODES)
    assert [n for n, count in Counter(names).items() if count > 1] == []
    with pytest.raises(ValueError, match="defined twice"):
        errors._table(Code("usage", 422, "once"), Code("usage", 422, "twice"))


def test_only_the_table_maps_codes():
    # The three places that mapped codes to statuses and classes read the table now: no
    # module keeps a mapping of its own (a dict from codes to numbers or classes). The rules'
    # table of diagnostic codes maps them to texts, and is not one.
    def mapping(node: ast.Dict) -> bool:
        pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True)
                 if isinstance(k, ast.Constant) and k.value in CODES]
        return len(pairs) >= 2 and all(
            isinstance(v, (ast.Name, ast.Attribute))
            or (isinstance(v, ast.Constant) and isinstance(v.value, int)) for _, v in pairs)

    own = [(path, node.lineno) for path, tree in MODULES if path != "errors.py"
           for node in ast.walk(tree) if isinstance(node, ast.Dict) and mapping(node)]
    assert own == []


def test_every_error_class_lives_in_errors_py():
    elsewhere = {name: path for name, (path, _) in EXCEPTIONS.items() if path != "errors.py"}
    assert set(elsewhere) == set(KEPT), elsewhere
    assert all(name.startswith("_") or name in ("Unwritten", "OutOfRange")
               for name in KEPT)


def test_every_class_code_is_in_the_table_and_answers():
    def tree(cls: type[ShsyncError]) -> list[type[ShsyncError]]:
        return [cls, *(c for sub in cls.__subclasses__() for c in tree(sub))]

    classes = tree(ShsyncError)
    assert len(classes) == sum(1 for path, node in EXCEPTIONS.values()
                               if path == "errors.py" and node.name != "UnknownCode")
    for cls in classes:
        assert cls.code in CODES, cls
        assert CODES[cls.code].status is not None, cls  # what a code without a status falls to


def test_each_row_is_sound():
    from shsync.server.problems import _TITLES

    for code in CODES.values():
        assert code.name == code.name.lower() and " " not in code.name
        assert code.status is None or code.status in _TITLES, code
        assert code.exit in (errors.EXIT_ERROR, errors.EXIT_UNREPORTED), code
        assert code.summary
        if code.cls is not None:  # rebuilt from a server's problem as cls(detail, code)
            made = code.cls("detail", code.name) if not issubclass(code.cls, errors.Refused) \
                else code.cls(["detail"], code.name)
            assert made.code == code.name
    with pytest.raises(AttributeError):
        CODES["usage"].status = 400


def test_the_cli_exit_codes_are_the_tables():
    import shsync.cli
    from shsync.cli import common

    assert (shsync.cli.EXIT_USAGE, shsync.cli.EXIT_UNREPORTED) == (64, 3)
    assert (common.EXIT_OK, common.EXIT_ERROR, common.EXIT_CHANGES) == (0, 1, 2)
    assert {c.exit for c in CODES.values()} == {1, 3}
    assert CODES["partly-applied"].exit == errors.EXIT_UNREPORTED


def test_an_unknown_code_fails_loudly_in_the_suite(monkeypatch):
    monkeypatch.setenv(errors.STRICT_VARIABLE, "1")
    with pytest.raises(UnknownCode, match="'no-such-code'"):
        errors.UserError("message", "no-such-code")


def test_in_use_an_unknown_code_is_kept_and_answers_as_its_class(monkeypatch):
    from shsync.server import problems

    monkeypatch.delenv(errors.STRICT_VARIABLE)
    exc = errors.StalePlan("the practice changed", "no-such-code")
    assert (exc.code, str(exc)) == ("no-such-code", "the practice changed")
    assert errors.status_of(exc) == 409 and errors.exit_of(exc) == 1
    assert errors.status_of(errors.BackendError("down", "no-such-code")) == 503
    assert problems.from_error(exc).status_code == 409


def test_a_class_with_an_unknown_code_is_refused_when_made():
    with pytest.raises(UnknownCode, match="'no-such-code'"):
        type("Broken", (errors.UserError,), {"code": "no-such-code"})


def test_a_code_no_server_answers_with_answers_as_its_class():
    # bad-practice: a store URL's (a BackendError) and a token's practice (a UserError)
    assert errors.status_of(errors.BackendError("x", "bad-practice")) == 503
    assert errors.status_of(errors.UserError("x", "bad-practice")) == 422


def test_a_servers_problem_comes_back_as_the_tables_class():
    import httpx

    from shsync.stores.remote import RemoteBackend

    def problem(status: int, code: str, errors_: list[dict[str, str]] | None = None):
        backend = object.__new__(RemoteBackend)
        backend.display_url, backend._create = "https://example.test/practices/p", False
        body = {"code": code, "detail": "nothing was applied: why", "errors": errors_ or []}
        return backend._problem(httpx.Response(status, json=body))

    assert type(problem(409, "stale-plan")) is errors.StalePlan
    assert type(problem(403, "self-approval")) is errors.Forbidden
    refused = problem(422, "plan-kind-mismatch", [{"message": "a"}, {"message": "b"}])
    assert type(refused) is errors.Refused and refused.problems == ("a", "b")
    assert type(problem(422, "usage")) is errors.UserError
    assert type(problem(409, "head-moved")) is errors.RemoteError  # as before: by status
    newer = problem(422, "a-newer-servers-code")  # not in this table: the server's word
    assert (type(newer), newer.code) == (errors.UserError, "a-newer-servers-code")
    assert problem(503, "a-newer-servers-code").code == "a-newer-servers-code"
