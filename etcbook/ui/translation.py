"""Qt's own words in Japanese: file dialogs, text fields' context menus, standard buttons.

Qt ships its translations with PySide6 (``qtbase_ja.qm`` in the folder
``QLibraryInfo.path(TranslationsPath)``). Loaded at start through a :class:`QTranslator`, with
the default locale set to Japanese so that dates in file dialogs read 2026/12/05. A few strings
Qt 6 uses but its Japanese catalogue lacks are filled in by :class:`_MissingQtWords`.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTranslator

JAPANESE = QLocale(QLocale.Language.Japanese, QLocale.Country.Japan)

_MISSING: dict[tuple[str, str], str] = {
    ("QFileDialog", "&Look in:"): "場所(&L):",
}
"""Qt 6 strings absent from ``qtbase_ja.qm`` (context, source) -> Japanese."""


class _MissingQtWords(QTranslator):
    """The few Qt strings ``qtbase_ja.qm`` does not translate."""

    def translate(
        self,
        context: str,
        source_text: str,
        disambiguation: str | None = None,
        n: int = -1,
    ) -> str:  # Qt override
        return _MISSING.get((context, source_text), "")

    def isEmpty(self) -> bool:  # Qt override
        return False


def install_japanese(app: QCoreApplication) -> bool:
    """Install Qt's Japanese translation on ``app`` (once); ``True`` when ``qtbase_ja`` loaded."""
    if app.property("etcbook_translators"):
        return True
    QLocale.setDefault(JAPANESE)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt = QTranslator(app)
    loaded = qt.load(JAPANESE, "qtbase", "_", folder)
    translators: list[QObject] = [_MissingQtWords(app)]
    if loaded:
        translators.append(qt)
    for translator in translators:
        app.installTranslator(translator)  # type: ignore[arg-type]
    app.setProperty("etcbook_translators", True)
    return loaded
