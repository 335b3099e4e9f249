"""Repository licence detection from LICENSE/COPYING files, and the permissive allowlist.

Detection matches the distinctive sentences of each licence text (the approach of GitHub's
`licensee`, reduced to key phrases) or an explicit `SPDX-License-Identifier`. The Stack
(Kocetkov et al. 2022, §3.1) keeps only repositories under permissive licences; the default
allowlist is that idea for the licences detected here.
"""

from __future__ import annotations

import posixpath
import re

PERMISSIVE = ["MIT", "MIT-0", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "0BSD", "Unlicense",
              "CC0-1.0", "Zlib", "BSL-1.0", "Python-2.0", "PostgreSQL"]
LICENSE_FILE = re.compile(r"^(un)?licen[cs]e([-._][\w.-]*)?$|^copying([-._][\w.-]*)?$", re.I)
_SPDX = re.compile(r"SPDX-License-Identifier:\s*([\w.+-]+)")

# The GNU texts name each other in their bodies (the GPL tells you when to use the LGPL), so
# they are told apart by their title, in the first characters of the file.
_TITLE_CHARS = 300
_GNU_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("AGPL-3.0", ("gnu affero general public license",)),
    ("LGPL-2.1", ("gnu lesser general public license", "version 2.1")),
    ("LGPL-2.0", ("gnu library general public license",)),
    ("LGPL-3.0", ("gnu lesser general public license",)),
    ("GPL-3.0", ("gnu general public license", "version 3")),
    ("GPL-2.0", ("gnu general public license", "version 2")),
]
# (SPDX id, phrases that must all appear), most specific first.
_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("MPL-2.0", ("mozilla public license", "2.0")),
    ("Apache-2.0", ("apache license", "version 2.0")),
    ("MIT-0", ("permission is hereby granted, free of charge", "without restriction")),
    ("MIT", ("permission is hereby granted, free of charge",)),
    ("BSD-3-Clause", ("redistribution and use in source and binary forms", "neither the name")),
    ("BSD-2-Clause", ("redistribution and use in source and binary forms",)),
    ("ISC", ("permission to use, copy, modify, and/or distribute this software for any purpose",
             "provided that the above copyright notice")),
    ("0BSD", ("permission to use, copy, modify, and/or distribute this software for any purpose",)),
    ("Unlicense", ("this is free and unencumbered software released into the public domain",)),
    ("CC0-1.0", ("cc0 1.0 universal",)),
    ("BSL-1.0", ("boost software license",)),
    ("Zlib", ("this software is provided 'as-is'", "altered source versions must be plainly marked")),
]


def is_license_file(path: str) -> bool:
    """Top-level LICENSE, LICENCE.md, COPYING, UNLICENSE and the like."""
    return "/" not in path.strip("/") and bool(LICENSE_FILE.match(posixpath.basename(path)))


def detect_license(text: str) -> str | None:
    """SPDX id of one licence text, or None when it matches nothing known."""
    if m := _SPDX.search(text):
        return m.group(1)
    norm = re.sub(r"\s+", " ", text.lower()).strip()
    for spdx, phrases in _GNU_RULES:
        if all(p in norm[:_TITLE_CHARS] for p in phrases):
            return spdx
    for spdx, phrases in _RULES:
        if all(p in norm for p in phrases):
            # MIT-0 drops MIT's "subject to the following conditions" notice requirement.
            if spdx == "MIT-0" and "subject to the following conditions" in norm:
                continue
            return spdx
    return None


def repo_license(files: dict[str, str]) -> str | None:
    """The licence of a repository from its top-level licence files (path -> text); the first wins."""
    for path in sorted(files, key=lambda p: (len(p), p)):
        if is_license_file(path) and (spdx := detect_license(files[path])):
            return spdx
    return None


def license_allowed(spdx: str | None, allowlist: list[str], allow_unknown: bool) -> bool:
    if spdx is None:
        return allow_unknown
    return spdx in allowlist
