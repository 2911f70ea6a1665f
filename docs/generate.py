"""Regenerate the parts of the docs that are made from the code, or check them.

    python docs/generate.py           # rewrite them in place
    python docs/generate.py --check   # exit 1 if any is out of date (a test runs this)

- the op table in docs/spec-format.md, from runner/ops.py;
- the exit codes in README.md, from runner/errors.py;
- the import graph in docs/architecture.md, from the imports of runner/.

Each generated part sits between `<!-- generated: NAME -->` and
`<!-- end generated: NAME -->` lines; everything else is written by hand.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "runner"

# The stages of the data flow, in order. A module may import from its own
# stage and from earlier ones, never from a later one. The base modules hold
# what every stage shares (errors, limits, the op table).
LAYERS = ["base", "loading", "spec", "core", "optimization", "results", "present", "entry points"]
BASE = {"errors", "limits", "ops", "gc_pause", "_version", "words"}
ENTRY_POINTS = {"cli", "pytest_plugin", "__init__", "__main__"}


def layer_of(module: str) -> str:
    """'runner.spec.models' -> 'spec'; 'runner.ops' -> 'base'; 'runner.cli' -> 'entry points'."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in ENTRY_POINTS:
        return "entry points"
    if parts[0] in BASE:
        return "base"
    return parts[0]


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1 and parts[:-1] != ["runner"]:
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int]]:
    """Every runner module `path` imports (at any depth of its code, lazy
    imports included), with the line of the import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("runner"):
                continue
            if node.module is None or node.level and not node.module:
                found.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names)
            else:
                found.append((target, node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names if alias.name.startswith("runner"))
    return found


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def backward_imports() -> list[str]:
    """Every import that runs against the data flow, as 'FILE:LINE: A imports B'."""
    rank = {layer: index for index, layer in enumerate(LAYERS)}
    wrong = []
    for path in modules():
        importer = module_name(path)
        for target, line in imports(path):
            if rank[layer_of(target)] > rank[layer_of(importer)]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {importer} ({layer_of(importer)}) imports "
                             f"{target} ({layer_of(target)})")
    return wrong


def import_graph() -> str:
    """The stages and which imports which, as a Mermaid flowchart with counts."""
    edges: dict[tuple[str, str], int] = {}
    for path in modules():
        importer = layer_of(module_name(path))
        for target, _ in imports(path):
            imported = layer_of(target)
            if imported != importer:
                edges[importer, imported] = edges.get((importer, imported), 0) + 1
    ids = {layer: layer.replace(" ", "_") for layer in LAYERS}
    lines = ["```mermaid", "flowchart RL"]
    for (importer, imported), count in sorted(edges.items(), key=lambda e: (LAYERS.index(e[0][0]),
                                                                              LAYERS.index(e[0][1]))):
        lines.append(f"  {ids[importer]}[{importer}] -->|{count}| {ids[imported]}[{imported}]")
    lines.append("```")
    lines.append("")
    lines.append("An arrow `A --n--> B`: modules of A import modules of B at n places. "
                 "Every arrow points to an earlier stage.")
    return "\n".join(lines)


def op_table() -> str:
    sys.path.insert(0, str(ROOT))
    from runner.ops import OPS

    rows = ["| op | inputs | forward | local derivatives | allowed inputs, notes |", "|---|---|---|---|---|"]
    for op in OPS.values():
        name = f"`{op.name}`" + (f" (`a {op.symbol} b`)" if op.symbol else "")
        notes = "; ".join(text for text in (op.domain, op.note) if text)
        cells = [name, op.arity_text, op.formula, op.gradient, notes]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def exit_codes() -> str:
    sys.path.insert(0, str(ROOT))
    from runner.errors import EXIT_CODES

    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {code} | {meaning.replace('|', chr(92) + '|')} |" for code, (_, meaning) in EXIT_CODES.items()]
    return "\n".join(rows)


GENERATED = {
    ROOT / "README.md": {"exit-codes": exit_codes},
    ROOT / "docs" / "spec-format.md": {"op-table": op_table},
    ROOT / "docs" / "architecture.md": {"import-graph": import_graph},
}


def regenerate(text: str, parts: dict) -> str:
    for name, make in parts.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end generated: {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"no '<!-- generated: {name} -->' section to fill")
        text = pattern.sub(lambda m: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, parts in GENERATED.items():
        old = path.read_text(encoding="utf-8")
        new = regenerate(old, parts)
        if new != old:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(new, encoding="utf-8")
    wrong = backward_imports()
    for line in wrong:
        print(f"import against the data flow: {line}", file=sys.stderr)
    if check and stale:
        print(f"out of date (run python docs/generate.py): {', '.join(stale)}", file=sys.stderr)
    elif stale:
        print(f"rewrote {', '.join(stale)}")
    return 1 if (check and stale) or wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
