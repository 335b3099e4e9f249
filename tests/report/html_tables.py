"""Read the report's tables back: {table id: [ {header: cell}, ... ]}, numbers from `data-value`."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self.sections: list[str] = []
        self.images: list[dict] = []
        self._table = None
        self._headers: list[str] = []
        self._row: list | None = None
        self._cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        elif tag == "img":
            self.images.append(a)
        elif tag == "table":
            self._table, self._headers = a.get("id"), []
            self.tables[self._table] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = {"tag": tag, "text": "", "value": a.get("data-value")}

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row and self._row[0]["tag"] == "th":
                self._headers = [c["text"] for c in self._row]
            else:
                self.tables[self._table].append({h: _value(c) for h, c in zip(self._headers, self._row, strict=True)})
            self._row = None


def _value(cell: dict):
    if cell["value"] is not None:
        return float(cell["value"])
    text = cell["text"].strip()
    return None if text in ("", "\u2013") else text


def parse_report(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p
