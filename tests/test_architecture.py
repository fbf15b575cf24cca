"""The layout as a rule: domain apps, and the library they stand on.

- `accounts` holds users, login (and password reset), the profile and a person's own data
  (download, deletion); nothing else: infrastructure lives in `lib/`.
- `lib/` imports no domain app and not `config`: it is what every app stands on. It is a plain
  package; a part of it is an app only where a model needs one (the outbox).
- Domain apps depend one way, `accounts ← contacts ← intros ← followups ← cohorts ← webhooks`: an
  app imports from those to its left (and from `lib`), never from one to its right, nor `config`.
- `workflows/` stands above every domain app: the actions whose effects cross apps (an
  introduction's transitions with the webhook event each announces, an outreach logged,
  deleting an account). It may import every domain app and `lib`; no domain app imports it,
  except its entry points (`ENTRY_POINTS`: views, Celery tasks, management commands and the
  beat's sweep), which call its actions as a person or the clock would. Nothing imports `config`.
- `api` (the JSON API) sits on top: it may import `workflows`, every domain app and `lib`, never
  `config`, and nothing imports it.

Dependencies are read from the source (ast), so an import inside a function counts as much as
one at the top, and so does a relation to another app's model named by a string
("cohorts.Cohort") or an `importlib.import_module("…")`.
"""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterator

from django.conf import settings

BASE = pathlib.Path(settings.BASE_DIR)
DOMAIN = ("accounts", "contacts", "intros", "followups", "cohorts", "webhooks")  # left to right
WORKFLOWS = "workflows"
TOP = "api"  # above the workflows and every domain app: imports them all, imported by none


def is_entry_point(module: str) -> bool:
    """Where a request, a task or a command comes in: these may call the workflows."""
    parts = module.split(".")
    return (
        parts[-1] in {"views", "tasks"}
        or parts[1:3] == ["management", "commands"]
        or module == "followups.sweep"  # the beat's sweep: re-asks, expiries, feedback asks, digests
    )


# App labels that are not their package's name.
PACKAGE_OF_LABEL = {"outbox": "lib"}

ACCOUNTS_MODULES = {
    "__init__",
    "admin",
    "apps",
    "data_exports",  # a person's "all my data" file
    "forms",
    "management",
    "migrations",
    "models",
    "personal_data",  # what each app adds to a person's download and deletion
    "tasks",
    "urls",
    "views",
}

# Dependencies that break the rules today, each "module -> what it depends on": a reason each.
# Empty: the code keeps the direction. A new one fails the test; one that is gone must leave.
ALLOWED_TODAY: dict[tuple[str, str], str] = {}

RELATION_FIELDS = {"ForeignKey", "OneToOneField", "ManyToManyField"}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(BASE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def dependencies(source: str, module: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module (or app label, for a relation named by a string) that `source` refers to."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield _resolve(module, is_package, node)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            args = [*node.args, *(k.value for k in node.keywords if k.arg == "to")]
            first = args[0] if args else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            if name == "import_module":
                yield first.value
            elif name in RELATION_FIELDS and "." in first.value:
                label = first.value.split(".")[0]
                yield PACKAGE_OF_LABEL.get(label, label)


def _package_of(dependency: str) -> str:
    return dependency.split(".")[0]


def violation(importer: str, dependency: str) -> str | None:
    """Why `importer` (a module of lib, a domain app or workflows) may not depend on `dependency`."""
    source, target = _package_of(importer), _package_of(dependency)
    if target == source or target not in {"lib", "config", WORKFLOWS, TOP, *DOMAIN}:
        return None
    if target == "config":
        return "config wires the project together; nothing below it imports it"
    if target == TOP:
        return "api sits on top of every app: nothing imports it"
    if source in (TOP, WORKFLOWS):
        return None  # above every app
    if target == WORKFLOWS:
        if source in DOMAIN and is_entry_point(importer):
            return None
        return "workflows stand above the apps: only their entry points (views, tasks, commands, the sweep) call them"
    if source == "lib":
        return "lib stands below every domain app"
    if target in DOMAIN and DOMAIN.index(target) > DOMAIN.index(source):
        return f"{source} may only import apps to its left: {' ← '.join(DOMAIN)}"
    return None


def project_modules() -> Iterator[tuple[str, pathlib.Path]]:
    for package in ("lib", *DOMAIN, WORKFLOWS, TOP):
        for path in sorted((BASE / package).rglob("*.py")):
            if "migrations" not in path.parts:  # history: they name what was, not what is
                yield _module_name(path), path


def current_violations() -> dict[tuple[str, str], str]:
    found = {}
    for module, path in project_modules():
        for dependency in dependencies(path.read_text(), module, is_package=path.name == "__init__.py"):
            if reason := violation(module, dependency):
                found[(module, dependency)] = reason
    return found


def test_accounts_holds_only_the_account_modules():
    present = {
        entry.stem if entry.is_file() else entry.name
        for entry in (BASE / "accounts").iterdir()
        if entry.name != "__pycache__" and (entry.suffix == ".py" or (entry / "__init__.py").exists())
    }
    assert present - ACCOUNTS_MODULES == set(), (
        "accounts is users, login, profile and a person's own data: infrastructure goes in lib/"
    )


def test_dependencies_run_one_way_lib_first_then_accounts_to_cohorts():
    new = {key: reason for key, reason in current_violations().items() if key not in ALLOWED_TODAY}
    assert new == {}


def test_every_dependency_allowed_today_is_still_there():
    """So that a dependency fixed since leaves the list, and the list only shrinks."""
    assert set(ALLOWED_TODAY) - set(current_violations()) == set()


def test_lib_is_a_plain_package_with_an_app_only_where_a_model_needs_one():
    lib = BASE / "lib"
    assert not (lib / "apps.py").exists() and not (lib / "models.py").exists()
    apps = {path.parent for path in lib.rglob("apps.py")}
    with_models = {path.parent for path in lib.rglob("models.py")}
    assert apps == with_models
    installed = {name for name in settings.INSTALLED_APPS if name.startswith("lib.")}
    assert installed == {_module_name(app / "__init__.py") for app in apps}


def test_the_rule_catches_each_way_of_depending_on_an_app_to_the_right():
    """The reader above finds what it must: a plain import, one inside a function, a relation
    by string, and import_module; a relative import stays in its own package."""
    source = (
        "from cohorts.models import Cohort\n"
        "def later():\n"
        "    import followups.services\n"
        "from . import forms\n"
        "from ..models import User\n"
        "owner = models.ForeignKey('contacts.Contact', on_delete=models.CASCADE)\n"
        "importlib.import_module('config.settings')\n"
    )
    module = "accounts.parts.module"
    assert set(dependencies(source, module)) == {
        "cohorts.models",
        "followups.services",
        "accounts.parts",
        "accounts.models",
        "contacts",
        "config.settings",
    }
    found = {dep for dep in dependencies(source, module) if violation(module, dep)}
    assert found == {"cohorts.models", "followups.services", "contacts", "config.settings"}
    assert violation("lib.outbox.services", "accounts.models")
    assert violation("intros.services", "workflows.intros")
    assert violation("followups.models", "workflows.intros")
    assert violation("lib.outbox.services", "workflows.intros")
    assert violation("intros.views", "workflows.intros") is None
    assert violation("accounts.tasks", "workflows.personal_data") is None
    assert violation("cohorts.management.commands.load_demo", "workflows.intros") is None
    assert violation("followups.sweep", "workflows.digests") is None
    assert violation("workflows.intros", "cohorts.models") is None
    assert violation("workflows.intros", "config.settings")
    assert violation("cohorts.views", "intros.models") is None
    assert violation("intros.models", "lib.outbox.models") is None
    assert set(dependencies("last_ask = ForeignKey(to='outbox.OutboxMessage')", "intros.models")) == {"lib"}
    assert violation("api.routes.cohorts", "cohorts.dashboard") is None
    assert violation("api.routes.contacts", "lib.ratelimit") is None
    assert violation("cohorts.views", "api.main")
    assert violation("lib.pagination", "api.pagination")
    assert violation("api.main", "config.settings")


def test_workflows_is_a_plain_package_above_the_apps():
    """No models, no app config: a layer of functions the entry points call."""
    workflows = BASE / WORKFLOWS
    assert (workflows / "__init__.py").exists()
    assert not (workflows / "apps.py").exists() and not (workflows / "models.py").exists()
    assert WORKFLOWS not in settings.INSTALLED_APPS


def test_no_app_registers_into_another_at_start_up():
    """Effects are plain calls: no app fills another's registry from AppConfig.ready()."""
    for package in DOMAIN:
        apps_py = BASE / package / "apps.py"
        names = {
            node.attr if isinstance(node, ast.Attribute) else node.id
            for node in ast.walk(ast.parse(apps_py.read_text()))
            if isinstance(node, ast.Attribute | ast.Name)
        }
        assert not {"register", "register_context_builder", "PART"} & names, package


def test_every_transition_names_the_action_that_makes_it():
    import importlib

    from intros.states import TRANSITIONS

    for transition in TRANSITIONS.values():
        module, _, function = transition.action.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), transition.name
