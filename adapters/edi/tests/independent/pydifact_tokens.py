"""Tokenize EDIFACT documents with pydifact and print one JSON line per file.

Usage: python pydifact_tokens.py FILE...
Output per file:
  {"file": ..., "una": [component, data, decimal, release, reserved, terminator] or null,
   "segments": [[tag, [component, ...], ...], ...]}          (each element as its components)
or {"file": ..., "error": "..."} when pydifact refuses the document.
Files are read as UTF-8, as the hub writes them.
"""

import json
import sys
import warnings

from pydifact.parser import Parser


def main():
    # pydifact 0.2.3 ships no segment directories and warns per segment that it skips its
    # (optional) directory validation; only its tokenizer and parser are used here.
    warnings.simplefilter("ignore")
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        try:
            segments = list(Parser().parse(text))
        except Exception as e:  # pydifact raises EDISyntaxError and plain errors alike
            print(json.dumps({"file": path, "error": f"{type(e).__name__}: {e}"}))
            continue
        una = None
        out = []
        for seg in segments:
            if seg.tag == "UNA":
                una = list(text[3:9])
                continue
            elements = [el if isinstance(el, list) else [el] for el in seg.elements]
            out.append([seg.tag, *elements])
        print(json.dumps({"file": path, "una": una, "segments": out}))


if __name__ == "__main__":
    main()
