"""Safe YAML loading that remembers line numbers, so errors can name file and line."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

LINE_KEY = "__line__"
# Nodes a document may have once every alias is expanded: far above any lookup list or koe.yaml,
# far below what an alias bomb ("billion laughs") expands to.
MAX_EXPANDED_NODES = 200_000


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the 1-based line of every mapping under ``__line__``."""

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping


def load_yaml_with_lines(path: Path, error: type[Exception] = ValueError) -> Any:
    """Parse a YAML file safely; mappings carry ``__line__``.

    Raises:
        error: for a missing file, non-UTF-8 text or invalid YAML, naming the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc})") from exc
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problem = _expansion_problem(node)
        if problem:
            raise error(f"{path}:{problem}")
        return loader.construct_document(node)
    except RecursionError as exc:
        raise error(f"{path}: invalid YAML: nested too deeply") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise error(f"{path}{line}: invalid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expansion_problem(root: yaml.Node) -> str:
    """"LINE: message" when aliases would expand the document past MAX_EXPANDED_NODES or refer
    to themselves; "" otherwise. Walks the composed node graph, each distinct node once."""
    sizes: dict[int, int] = {}
    uses: Counter[int] = Counter()
    nodes: dict[int, yaml.Node] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = min(total, MAX_EXPANDED_NODES + 1)
            continue
        if key in sizes:
            continue
        nodes[key] = node
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            uses[id(child)] += 1
            if id(child) in open_nodes:
                line = child.start_mark.line + 1
                return f"{line}: an alias refers to its own anchor (recursive YAML is refused)"
            if id(child) not in sizes:
                stack.append((child, False))
    if sizes[id(root)] <= MAX_EXPANDED_NODES:
        return ""
    shared = [k for k in uses if uses[k] > 1]
    worst = max(shared, key=lambda k: uses[k] * sizes[k], default=id(root))
    line = nodes[worst].start_mark.line + 1
    return (
        f"{line}: aliases of the anchor here expand the document past {MAX_EXPANDED_NODES:,} "
        "nodes (an alias bomb?); write the values out instead"
    )


def line_of_key(path: Path, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest key (or list item) of ``loc`` found in a YAML file:
    where ``segments: エリア`` is, not where its mapping starts. None when unreadable."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value
                     if isinstance(k, yaml.ScalarNode) and k.value == str(key)]  # fmt: skip
            if not match:
                break
            line, node = match[0][0].start_mark.line + 1, match[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def strip_lines(node: Any) -> Any:
    """A copy of a loaded document without the ``__line__`` keys."""
    if isinstance(node, dict):
        return {k: strip_lines(v) for k, v in node.items() if k != LINE_KEY}
    if isinstance(node, list):
        return [strip_lines(v) for v in node]
    return node
