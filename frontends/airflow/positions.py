"""Source positions of LibCST nodes, computed only for what a diagnostic or an annotation asks about.

LibCST's PositionProvider regenerates the code of the whole module to place every node, which costs more than
parsing. Most positions asked for are those of statements and of the calls they make (a task's line, a DAG's
line): Python's own parser gives those for free, so the statements of the module are paired with those of
``ast.parse`` (a simple statement line of k small statements pairs with k of them; a compound statement with
one), and each small statement's value, each ``with`` item and each decorator gets its position from its twin.
Anything else is placed by regenerating only the top-level statement that holds it, on first use.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


class Positions:
    def __init__(self, module: cst.Module, source: str, tree: ast.Module | None = None) -> None:
        self.module = module
        self.known: dict[cst.CSTNode, tuple[int, int]] = {}
        self.lines = source.splitlines()
        self.done: set[int] = set()  # top-level statements regenerated already
        self.anchors: list[tuple[cst.CSTNode, tuple[int, int]]] = []  # top-level statement → its own position
        self.def_lines: dict[cst.CSTNode, int] = {}
        if tree is None:
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None
        if tree is not None:
            self._pair(module.body, tree.body, top=True)

    def get(self, node: cst.CSTNode, current: cst.CSTNode | None = None) -> tuple[int, int]:
        found = self.known.get(node)
        if found is not None:
            return found
        for index, statement in enumerate(self.module.body):
            if statement is current and index not in self.done:
                self._regenerate(index)
                found = self.known.get(node)
                if found is not None:
                    return found
        for index in range(len(self.module.body)):
            if index not in self.done:
                self._regenerate(index)
        return self.known.get(node, (0, 0))

    # --- pairing with ast ------------------------------------------------------------------------------------

    def _column(self, line: int, byte_offset: int) -> int:
        """ast counts columns in UTF-8 bytes, LibCST (and editors) in characters; 1-based."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1

    def _at(self, node: cst.CSTNode, twin: ast.AST) -> None:
        # Parentheses are where the two parsers disagree (ast counts a tuple's, LibCST does not): such nodes are
        # left to the regeneration.
        if getattr(node, "lpar", None) or isinstance(node, cst.Tuple | cst.GeneratorExp):
            return
        line = getattr(twin, "lineno", 0)
        if line:
            self.known.setdefault(node, (line, self._column(line, getattr(twin, "col_offset", 0))))

    def _pair(self, body: Sequence[cst.CSTNode], twins: list[ast.stmt], top: bool = False) -> None:
        i = 0
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                smalls = statement.body
                if i + len(smalls) > len(twins):
                    return
                for small, twin in zip(smalls, twins[i:i + len(smalls)], strict=True):
                    self._small(small, twin)
                if top:
                    self.anchors.append((statement, (getattr(twins[i], "lineno", 0), 1)))
                self._at(statement, twins[i])
                i += len(smalls)
                continue
            if i >= len(twins):
                return
            self._compound(statement, twins[i])
            i += 1

    def _small(self, small: cst.CSTNode, twin: ast.stmt) -> None:
        self._at(small, twin)
        value = getattr(small, "value", None)
        twin_value = getattr(twin, "value", None)
        if isinstance(value, cst.CSTNode) and isinstance(twin_value, ast.AST):
            self._at(value, twin_value)

    def _compound(self, statement: cst.CSTNode, twin: ast.stmt) -> None:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef) and isinstance(
                twin, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator, twin_decorator in zip(statement.decorators, twin.decorator_list, strict=False):
                self._at(decorator.decorator, twin_decorator)
            self.def_lines[statement] = twin.lineno  # the line of ``def``/``class``, which holds the name
            self._block(statement.body, twin.body)
            return
        self._at(statement, twin)
        if isinstance(statement, cst.With) and isinstance(twin, ast.With | ast.AsyncWith):
            for item, twin_item in zip(statement.items, twin.items, strict=False):
                self._at(item.item, twin_item.context_expr)
            self._block(statement.body, twin.body)
        elif isinstance(statement, cst.For) and isinstance(twin, ast.For | ast.AsyncFor):
            self._at(statement.iter, twin.iter)
            self._block(statement.body, twin.body)
        elif isinstance(statement, cst.If) and isinstance(twin, ast.If):
            self._at(statement.test, twin.test)
            self._block(statement.body, twin.body)
            orelse = statement.orelse
            if isinstance(orelse, cst.If) and twin.orelse:
                self._compound(orelse, twin.orelse[0])
            elif isinstance(orelse, cst.Else):
                self._block(orelse.body, twin.orelse)
        elif isinstance(statement, cst.Try) and isinstance(twin, ast.Try):
            self._block(statement.body, twin.body)

    def _block(self, block: cst.BaseSuite, twins: list[ast.stmt]) -> None:
        if isinstance(block, cst.IndentedBlock):
            self._pair(block.body, twins)

    # --- the fallback: regenerate one top-level statement ----------------------------------------------------

    def _regenerate(self, index: int) -> None:
        self.done.add(index)
        statement = self.module.body[index]
        line = next((pos[0] for node, pos in self.anchors if node is statement), None)
        anchor: cst.CSTNode = statement
        if line is None:
            line = self.known.get(statement, (0, 0))[0]
            if isinstance(statement, cst.FunctionDef | cst.ClassDef):
                anchor = statement.name
                line = self.def_lines.get(statement, 0)
        if not line:
            self._regenerate_all()
            return
        alone = cst.Module(body=[statement], default_newline=self.module.default_newline,
                           default_indent=self.module.default_indent)
        ranges = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
        offset = line - ranges[anchor].start.line
        for node, rng in ranges.items():
            self.known.setdefault(node, (rng.start.line + offset, rng.start.column + 1))

    def _regenerate_all(self) -> None:
        self.done.update(range(len(self.module.body)))
        for node, rng in MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider).items():
            self.known[node] = (rng.start.line, rng.start.column + 1)
