"""The user's role in the window: which workflow pages and actions it offers.

- ``personal``: a SQLite ledger, one person with every right. The claims workflow (submitting,
  the 承認 and 月締め pages) is not shown: nothing changes for the single user, whose claims
  are exported from the 経費精算 page as before (the CLI's ``claim`` and ``month`` commands
  still work on SQLite for who wants them, and their rules still hold in the window).
- ``driver``: a PostgreSQL login in ``etcbook_driver``: submits claims, sees their status.
- ``accounts``: a login in ``etcbook_accounts``, or one outside both groups (the ledger's
  owner, a DBA: :func:`etcbook.models.roles.my_role` says ``admin``), whom the database lets
  decide claims and close months.

The PostgreSQL database enforces every right; the window only leaves out what a role cannot do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from etcbook.ui.context import AppContext

PERSONAL = "personal"
DRIVER = "driver"
ACCOUNTS = "accounts"
WORKFLOW_ROLES = (DRIVER, ACCOUNTS)
"""The roles that see the claims workflow."""


def window_role(context: AppContext) -> str:
    """``personal``, ``driver`` or ``accounts`` for the open store (``personal`` before it is
    open), from the role the context read at opening; a login in neither group (``admin``)
    decides claims and closes months like the accounts desk."""
    from etcbook.ui.context import ADMIN

    return ACCOUNTS if context.role == ADMIN else context.role
