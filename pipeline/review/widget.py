"""The review widget (anywidget, ipywidgets 8): page image beside its text, doubtful words
highlighted, click a word to correct it; every save goes to the journal before the widget
moves on. Runs in JupyterLab, Notebook 7 and Voilà (`gazette review OUT_DIR`).

The browser side (static/review.js) draws and edits; this side owns the data: it answers
`save` and `goto` messages from the browser by journaling, re-applying the journal and
setting `focus` (with `focus_serial` bumped once per answered message) to the word to edit next.
"""

from __future__ import annotations

import logging
from pathlib import Path

import anywidget
import traitlets

from pipeline.document import parse_token_id
from pipeline.errors import GazetteError
from pipeline.review.session import LEGEND, ReviewSession, default_reviewer

__all__ = ["ReviewWidget"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")


class ReviewWidget(anywidget.AnyWidget):
    _esm = STATIC / "review.js"
    _css = STATIC / "review.css"

    documents = traitlets.List(traitlets.Unicode()).tag(sync=True)
    document = traitlets.Unicode("").tag(sync=True)
    page = traitlets.Int(1).tag(sync=True)
    page_count = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.List(traitlets.Int()).tag(sync=True)  # [width, height] of the box coordinates
    image = traitlets.Bytes(b"").tag(sync=True)  # JPEG of the page, b"" when there is none
    image_note = traitlets.Unicode("").tag(sync=True)  # why there is no image
    lines = traitlets.List().tag(sync=True)  # the page's lines of token views (session.page_view)
    counts = traitlets.Dict().tag(sync=True)  # pending/flagged/reviewed: document and page
    focus = traitlets.Unicode("").tag(sync=True)
    focus_serial = traitlets.Int(0).tag(sync=True)
    reviewer = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    legend = traitlets.List().tag(sync=True)
    orphans = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(
        self,
        out_dir: str | Path,
        *,
        reviewer: str | None = None,
        document: str | None = None,
        source_root: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.session = ReviewSession(Path(out_dir), reviewer or default_reviewer(), source_root=source_root)
        self.reviewer = self.session.reviewer
        self.legend = [list(item) for item in LEGEND]
        self.documents = [d.relative for d in self.session.documents]
        self.observe(self._on_document, names="document")
        self.observe(self._on_page, names="page")
        self.observe(self._on_reviewer, names="reviewer")
        self.on_msg(self._on_message)
        if not self.documents:
            self.status = f"no converted documents in {out_dir} (run gazette convert … -o {out_dir} first)"
        else:
            self.document = document if document in self.documents else self.documents[0]

    # --- observers ------------------------------------------------------------------------

    def _on_document(self, change: dict) -> None:
        try:
            self.session.open(change["new"])
        except GazetteError as exc:
            self.status = exc.message
            return
        assert self.session.document is not None
        with self.hold_sync():
            self.page_count = len(self.session.document.pages)
            self.orphans = [f"{o.record.token} ({o.record.reviewer}): {o.reason}" for o in self.session.orphans]
            self.focus = ""
            self.status = ""
            if self.page == 1:
                self._show_page(1)
            else:
                self.page = 1  # the observer shows it

    def _on_page(self, change: dict) -> None:
        if self.session.document is not None:
            self.session.refresh()
            try:
                self._show_page(change["new"])
            except GazetteError as exc:  # an observer must not raise: the kernel would only log it
                self.status = exc.message

    def _on_reviewer(self, change: dict) -> None:
        self.session.reviewer = change["new"].strip() or default_reviewer()

    def _show_page(self, number: int) -> None:
        view = self.session.page_view(number)
        with self.hold_sync():
            self.page_size = [view.width, view.height] if view.width and view.height else []
            self.image = view.image
            self.image_note = view.image_note
            self.lines = view.lines
            self._update_counts()

    def _update_counts(self) -> None:
        self.counts = {"document": self.session.counts(), "page": self.session.counts(self.page)}

    # --- messages from the browser ---------------------------------------------------------

    def _on_message(self, _widget: object, content: dict, _buffers: list) -> None:
        kind = content.get("type")
        try:
            if kind == "save":
                self._save(content["token"], content["text"], content["previous"], int(content.get("step", 1)))
            elif kind == "goto":
                self._move_focus(content.get("token") or None, int(content.get("step", 1)))
        except (GazetteError, ValueError, KeyError) as exc:  # KeyError, ValueError: a malformed message
            log.warning("review: %s", exc)
            with self.hold_sync():
                self.status = f"not saved: {getattr(exc, 'message', exc)}"
                self.focus = content.get("token", "")
                self.focus_serial += 1

    def _save(self, token: str, text: str, previous: str, step: int) -> None:
        # Shift+Enter on an unchanged word only steps back; Enter on it confirms the word.
        if step > 0 or " ".join(text.split()) != previous:
            record = self.session.save(token, text, previous)
            if record.text == record.previous:
                self.status = f"confirmed {record.token}: {record.text!r}"
            else:
                self.status = f"saved {record.token}: {record.previous!r} → {record.text!r}"
        self._move_focus(token, step)

    def _move_focus(self, after: str | None, step: int) -> None:
        target = self.session.next_token(after, step)
        with self.hold_sync():
            if target is None:
                self.status = "nothing left to review in this document"
            page = parse_token_id(target)[0] if target else self.page
            if page != self.page:
                self.page = page  # the observer refreshes and shows the page
            else:
                self._show_page(page)
            self.focus = target or ""
            self.focus_serial += 1
