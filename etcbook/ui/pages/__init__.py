"""The pages of the main window, discovered from this package.

To add a page, drop a module here that defines ``PAGE``, a :class:`PageSpec`::

    from etcbook.ui.pages import PageSpec

    def _make(context):
        from etcbook.ui.pages._my_page_widget import MyPage  # heavy imports inside the factory
        return MyPage(context)

    PAGE = PageSpec(key="evidence", title="証憑", order=50, factory=_make)

Rules of the house:

- Keep the module light at import time (PySide6 only): every page module is imported when
  the window starts, and the window must appear fast. Import SQLModel, matplotlib or reportlab
  inside the factory or the widget's methods.
- ``factory(context)`` builds the page's widget the first time the page is shown; it gets the
  :class:`~etcbook.ui.context.AppContext` (store, settings, "ledger changed", operations).
- Pages are ordered by ``order``; the first nine get Ctrl+1 … Ctrl+9 in that order unless
  they declare their own ``shortcut``.
- Subclass :class:`etcbook.ui.page.Page` to get ``refresh()`` called when the ledger changed
  (at once when visible, else the next time the page is shown).
- Modules whose name starts with ``_`` are helpers, not pages.
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from etcbook.ui.context import AppContext


@dataclass(frozen=True)
class PageSpec:
    """A page of the main window.

    Attributes:
        key: stable identifier (settings, navigation requests), e.g. ``"trips"``.
        title: the Japanese title shown in the side navigation.
        order: position in the navigation, ascending.
        factory: builds the page widget from the context, on first show.
        shortcut: a QKeySequence string; ``None`` means Ctrl+<position> for the first nine.
        needs_store: shown only once the store is open (``False`` for pages that do not read it).
        roles: the window roles the page is for (:mod:`etcbook.ui.workflow_role`), ``None`` for
            every role; a page not for the open store's role is left out of the navigation.
        first_look: reads (on a worker thread, before the store opens, with sqlite3 alone: see
            :mod:`etcbook.models.first_look`) what the page can show at once when it is the
            first page, or ``None``; the page's widget then has ``show_first_look(look)``.
    """

    key: str
    title: str
    order: int
    factory: Callable[[AppContext], QWidget]
    shortcut: str | None = None
    needs_store: bool = True
    roles: tuple[str, ...] | None = None
    first_look: Callable[[Path], object | None] | None = None

    def offered_to(self, role: str) -> bool:
        """``True`` when the page is shown to ``role``."""
        return self.roles is None or role in self.roles


@dataclass(frozen=True)
class DiscoveryProblem:
    """A page module that could not be loaded: its name and the error, shown to the user."""

    module: str
    message: str


def discover_pages() -> tuple[list[PageSpec], list[DiscoveryProblem]]:
    """Import every page module of this package; return the specs in order, and any problems."""
    specs: list[PageSpec] = []
    problems: list[DiscoveryProblem] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        name = f"{__name__}.{info.name}"
        try:
            module = importlib.import_module(name)
        except Exception:  # one broken page must not take the window down
            problems.append(DiscoveryProblem(name, traceback.format_exc(limit=3)))
            continue
        spec = getattr(module, "PAGE", None)
        if isinstance(spec, PageSpec):
            specs.append(spec)
        elif spec is not None:
            problems.append(DiscoveryProblem(name, "PAGE is not a PageSpec"))
    specs.sort(key=lambda spec: (spec.order, spec.key))
    keys = [spec.key for spec in specs]
    for key in {key for key in keys if keys.count(key) > 1}:
        problems.append(DiscoveryProblem(key, f"two pages share the key {key!r}"))
    return specs, problems
