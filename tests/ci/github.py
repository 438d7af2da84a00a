"""What GitHub Actions does with a workflow job and a composite action, done locally: the
`${{ }}` expressions they use, each `run:` step in bash with its `env:` evaluated, step outputs
read from the GITHUB_OUTPUT file a step wrote, `if:` honoured, the job summary gathered.

Only the part of the expression language the workflows and action.yml here use is understood
(string literals, contexts, `== != && || !`, `always() success() failure()`): anything else
raises, so a new kind of expression fails the tests instead of being misread. `uses:` steps are
not run, except the shsync action itself (run step by step from its action.yml); the caller
gets which ones were passed over, to assert on.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))"
                    r"|(?P<name>[A-Za-z_][\w.-]*(?:\(\))?))")
_EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}")
_STATUS = {"always()", "success()", "failure()"}


class Unsupported(Exception):
    """An expression (or a step) these tests do not know how to run as GitHub would."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise Unsupported(f"cannot read the expression {text!r} at {text[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _text(value: Any) -> str:
    """A value as GitHub writes it into a string (an env value, a `with:` input)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def evaluate(expression: str, context: dict[str, Any], *, failed: bool = False) -> Any:
    tokens = _tokens(expression)
    pos = 0

    def peek() -> str | None:
        return tokens[pos][1] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise Unsupported(f"the expression {expression!r} ends too soon")
        pos += 1
        return tokens[pos - 1]

    def atom() -> Any:
        kind, text = take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if text == "(":
            value = either()
            if take()[1] != ")":
                raise Unsupported(f"unbalanced parentheses in {expression!r}")
            return value
        if text == "!":
            return not atom()
        if kind != "name":
            raise Unsupported(f"unexpected {text!r} in {expression!r}")
        if text in ("true", "false"):
            return text == "true"
        if text in _STATUS:
            return {"always()": True, "success()": not failed, "failure()": failed}[text]
        head, *rest = text.split(".")
        if head not in context:
            raise Unsupported(f"the context {head!r} of {expression!r}")
        found: Any = context[head]
        for key in rest:
            found = found.get(key) if isinstance(found, dict) else None
        return found

    def compare() -> Any:
        left = atom()
        if peek() in ("==", "!="):
            op = take()[1]
            right = atom()
            if not all(isinstance(v, (str, type(None))) for v in (left, right)) and \
                    type(left) is not type(right):
                raise Unsupported(f"a comparison of {left!r} and {right!r} in {expression!r}")
            same = _text(left).lower() == _text(right).lower()  # GitHub ignores case
            return same if op == "==" else not same
        return left

    def both() -> Any:
        value = compare()
        while peek() == "&&":
            take()
            right = compare()
            value = right if value else value
        return value

    def either() -> Any:
        value = both()
        while peek() == "||":
            take()
            right = both()
            value = value if value else right
        return value

    value = either()
    if pos != len(tokens):
        raise Unsupported(f"cannot read the rest of {expression!r}")
    return value


def substitute(text: str, context: dict[str, Any]) -> str:
    """A string with each `${{ expression }}` in it replaced by its value."""
    return _EMBEDDED.sub(lambda m: _text(evaluate(m.group(1), context)), str(text))


def condition(text: Any, context: dict[str, Any], failed: bool) -> bool:
    """An `if:`: implicitly `success() && (...)` unless it names a status function."""
    if text is None:
        return not failed
    expression = str(text).strip()
    if expression.startswith("${{") and expression.endswith("}}"):
        expression = expression[3:-2]
    value = bool(evaluate(expression, context, failed=failed))
    if not any(status in expression for status in _STATUS):
        value = value and not failed
    return value


def outputs_of(path: Path) -> dict[str, str]:
    """The `name=value` lines a step wrote to its GITHUB_OUTPUT file."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        if "<<" in line.split("=", 1)[0]:
            raise Unsupported(f"a multi-line output ({line!r})")
        name, value = line.split("=", 1)
        found[name] = value
    return found


@dataclass
class Step:
    label: str
    ran: bool
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""


@dataclass
class Run:
    steps: list[Step]
    summary: str
    outputs: dict[str, str]
    failed: bool

    @property
    def log(self) -> str:
        """Everything the steps printed, as the job's log shows it."""
        return "".join(s.stdout + s.stderr for s in self.steps)

    def step(self, label: str) -> Step:
        (found,) = [s for s in self.steps if s.label == label]
        return found

    def passed_over(self) -> list[tuple[str, bool]]:
        """The `uses:` steps that were not run (theirs is GitHub's own work), and whether
        their `if:` would have run them."""
        return [(s.uses, s.ran) for s in self.steps if s.uses is not None]


@dataclass
class Runner:
    """One runner machine: its environment, its temporary directory, its workspace."""

    workspace: Path
    temp: Path
    base_env: dict[str, str]
    github: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def __post_init__(self) -> None:
        # each job's own files, as on GitHub (one Runner is one job)
        self.commands = self.temp / f"_runner_file_commands_{uuid.uuid4().hex[:8]}"
        self.commands.mkdir(parents=True)

    def files(self) -> tuple[Path, Path]:
        self.counter += 1
        return (self.commands / f"output_{self.counter}",
                self.commands / f"summary_{self.counter}")

    def env(self, **extra: str) -> dict[str, str]:
        return {**self.base_env, "CI": "true", "GITHUB_ACTIONS": "true",
                "GITHUB_EVENT_NAME": self.github["event_name"], "GITHUB_REF": self.github["ref"],
                "GITHUB_WORKSPACE": str(self.workspace), "RUNNER_TEMP": str(self.temp), **extra}

    def bash(self, script: str, shell: str | None,
             env: dict[str, str]) -> subprocess.CompletedProcess:
        # GitHub: `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`; no shell on
        # Linux is `bash -e {0}`.
        self.counter += 1
        path = self.commands / f"step_{self.counter}.sh"
        path.write_text(script)
        if shell == "bash":
            command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)]
        elif shell is None:
            command = ["bash", "-e", str(path)]
        else:
            raise Unsupported(f"shell {shell!r}")
        return subprocess.run(command, cwd=self.workspace, env=env, capture_output=True,
                              text=True, timeout=300)

    def action(self, action_path: Path, inputs: dict[str, str]) -> Run:
        """Run a composite action (its action.yml) with these inputs, as GitHub does."""
        action = yaml.safe_load((action_path / "action.yml").read_text())
        assert action["runs"]["using"] == "composite"
        declared = action["inputs"]
        unknown = set(inputs) - set(declared)
        assert not unknown, f"inputs the action does not declare: {unknown}"
        values = {name: _text(inputs.get(name, spec.get("default", "")))
                  for name, spec in declared.items()}
        steps_ctx: dict[str, Any] = {}
        context = {"inputs": values, "steps": steps_ctx, "github": self.github}
        ran: list[Step] = []
        summary, failed = [], False
        for spec in action["runs"]["steps"]:
            label = spec.get("id") or spec.get("name") or spec.get("uses")
            go = condition(spec.get("if"), context, failed)
            if "uses" in spec:
                with_ = {k: substitute(v, context) for k, v in (spec.get("with") or {}).items()}
                ran.append(Step(label, go, uses=spec["uses"], with_=with_))
                continue
            if not go:
                ran.append(Step(label, False))
                continue
            env = {k: substitute(v, context) for k, v in (spec.get("env") or {}).items()}
            output, summary_file = self.files()
            result = self.bash(spec["run"], spec.get("shell"), self.env(
                GITHUB_ACTION_PATH=str(action_path), GITHUB_OUTPUT=str(output),
                GITHUB_STEP_SUMMARY=str(summary_file), **env))
            if summary_file.exists():
                summary.append(summary_file.read_text())
            if "id" in spec:
                steps_ctx[spec["id"]] = {"outputs": outputs_of(output),
                                         "outcome": "success" if result.returncode == 0
                                         else "failure"}
            ran.append(Step(label, True, env=env, returncode=result.returncode,
                            stdout=result.stdout, stderr=result.stderr))
            failed = failed or result.returncode != 0
        outputs = {k: substitute(v["value"], context) for k, v in action["outputs"].items()}
        return Run(ran, "".join(summary), outputs, failed)

    def job(self, workflow: dict[str, Any], name: str, *,
            run_uses: Callable[[str, dict[str, str]], Run | None],
            pass_over: Callable[[str], bool] = lambda run: False,
            env_override: dict[str, str] | None = None) -> Run:
        """Run one job of a workflow: its `run:` steps in bash (but those `pass_over` names),
        `uses:` steps through `run_uses` (None: not run). `env_override` replaces values of
        the workflow's `env:` (the store the test uses instead of the example's)."""
        job = workflow["jobs"][name]
        context: dict[str, Any] = {"github": self.github, "secrets": self.secrets,
                                   "steps": {}}
        ran: list[Step] = []
        if not condition(job.get("if"), context, False):
            return Run([], "", {}, False)
        env = {k: substitute(v, context) for k, v in
               {**(workflow.get("env") or {}), **(job.get("env") or {})}.items()}
        env.update(env_override or {})
        context["env"] = env
        summary, failed = [], False
        for spec in job["steps"]:
            label = spec.get("name") or spec.get("uses") or spec["run"]
            go = condition(spec.get("if"), context, failed)
            if "uses" in spec:
                with_ = {k: substitute(v, context) for k, v in (spec.get("with") or {}).items()}
                result = run_uses(spec["uses"], with_) if go else None
                if result is None:
                    ran.append(Step(label, go, uses=spec["uses"], with_=with_))
                    continue
                ran.extend(result.steps)
                summary.append(result.summary)
                failed = failed or result.failed
                continue
            if not go or pass_over(spec["run"]):
                ran.append(Step(label, False))
                continue
            step_env = {**env, **{k: substitute(v, context) for k, v in
                                  (spec.get("env") or {}).items()}}
            output, summary_file = self.files()
            result_ = self.bash(spec["run"], spec.get("shell"), self.env(
                GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary_file), **step_env))
            if summary_file.exists():
                summary.append(summary_file.read_text())
            ran.append(Step(label, True, env=step_env, returncode=result_.returncode,
                            stdout=result_.stdout, stderr=result_.stderr))
            failed = failed or result_.returncode != 0
        return Run(ran, "".join(summary), {}, failed)


def clean_env(path_first: str) -> dict[str, str]:
    """This machine's environment without shsync's and GitHub's variables, with a PATH."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SHSYNC_", "GITHUB_", "RUNNER_")) and k != "CI"}
    return {**base, "PATH": f"{path_first}{os.pathsep}{base.get('PATH', '')}"}
