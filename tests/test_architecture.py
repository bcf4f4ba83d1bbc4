"""The folders show the architecture, and imports run one way:
doors -> app -> companion -> features (care, conversation, reminders, reply) -> core and storage.

Every `import bot...` in bot/ (at the top of a module or inside a function) is read with `ast`
and checked against the layers below; a module may import its own folder's modules and anything
in a lower layer, never a higher one, and no two modules import each other, even indirectly.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

# Higher layers first. A module may import only from its own layer and the layers after it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot.cli", "bot.__main__"),
    ("bot.doors", "bot.tools"),
    ("bot.app",),
    ("bot.companion",),
    ("bot.care",),
    ("bot.conversation",),
    ("bot.reminders",),
    ("bot.reply",),
    ("bot.core", "bot.storage"),
    ("bot.clock", "bot.settings", "bot.loading", "bot.paths", "bot.logs", "bot.__init__"),
)


def _name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    module = "bot.__init__" if module == "bot" else module
    best: tuple[int, int] | None = None  # (length of the matching prefix, layer)
    for index, names in enumerate(LAYERS):
        for name in names:
            inside = module == name or module.startswith(f"{name}.")
            if inside and (best is None or len(name) > best[0]):
                best = (len(name), index)
    assert best is not None, f"{module} is in no layer: add its folder to LAYERS"
    return best[1]


def _imports(path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "bot"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "bot":
            subs = {f"{node.module}.{a.name}" for a in node.names}
            found |= (subs & known) or {str(node.module)}
    return found


MODULES = {_name(p): p for p in sorted(BOT.rglob("*.py")) if "migrations" not in p.parts}
GRAPH = {name: _imports(path, set(MODULES)) for name, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_downwards(module: str) -> None:
    upward = sorted(i for i in GRAPH[module] if _layer(i) < _layer(module))
    assert upward == [], f"{module} imports from a higher layer: {upward}"


def test_no_module_imports_itself_back() -> None:
    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in GRAPH.get(start, set()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = [m for m in MODULES if reaches(m, m, {m})]
    assert cycles == []


def test_the_store_knows_no_feature() -> None:
    store = {i for name, deps in GRAPH.items() if name.startswith("bot.storage") for i in deps}
    assert {i for i in store if _layer(i) < _layer("bot.storage")} == set()
    assert not any(i.startswith("bot.conversation") for i in store)


def test_the_readme_module_map_matches_the_tree() -> None:
    readme = (BOT.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(bot/[\w/]+\.py)`", section))
    tree = {
        str(p.relative_to(BOT.parent))
        for p in BOT.rglob("*.py")
        if p.name != "__init__.py" and "migrations" not in p.parts
    }
    assert sorted(tree - named) == [], "modules missing from the README's module map"
    assert sorted(named - tree) == [], "the README names modules that do not exist"
