"""Validate X12 documents with pyx12 and print one JSON line per file.

Usage: python pyx12_check.py MODE FILE...
  MODE "map":      pyx12's full validation (x12n_document) against the map pyx12 picks for
                   the group (997 004010, 999 005010X231A1) and its control-segment map.
  MODE "envelope": no transaction map (pyx12 has none for 850/855/856/810 or a 005010 997):
                   pyx12's X12Reader envelope checks (ISA layout, ISA/IEA, GS/GE, ST/SE control
                   numbers and counts, HL numbering, empty and trailing-separator segments) plus
                   the ISA/GS/GE/TA1/IEA segments against pyx12's control-segment map.

Output per file: {"file": ..., "valid": bool, "errors": ["where: code: text", ...]}, "valid"
being pyx12's own verdict (x12n_document's return; in envelope mode: no error found) and
"errors" its error tree plus whatever it logged at ERROR level. The exit code is 0 when every
line was produced; validity is in the JSON (x12valid's own exit code does not tell: it exits 1
for a valid file too).

pyx12's maps are HIPAA implementation guides: a few code lists there are the HIPAA subset of the
X12 code list (ISA05/ISA07 qualifiers, GS01/GS08, AK101/AK201 functional ids and set types).
Those lists, and only those, are dropped from a copy of the maps (HIPAA_ONLY below), so a 997
for a purchase order (AK1*PO, AK2*850) or a partner with a phone-number qualifier (ISA05 12) is
judged by the X12 standard rather than by the healthcare guide. Everything else - segment order
and repeats, usage, element types and lengths, the other code lists - is pyx12's as shipped.
"""

import io
import json
import logging
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from importlib.resources import files

import pyx12.error_handler
import pyx12.errors
import pyx12.map_if
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

# Elements whose code list in pyx12's maps is the HIPAA guide's subset of the X12 standard's.
HIPAA_ONLY = {"ISA05", "ISA07", "GS01", "GS08", "AK101", "AK201"}
MAPS = [
    "maps.xml",
    "codes.xml",
    "dataele.xml",
    "x12.control.00401.xml",
    "x12.control.00501.xml",
    "997.4010.xml",
    "999.5010.xml",
    "999.5010X231.A1.xml",
]


def widened_maps():
    src = files("pyx12").joinpath("map")
    out = tempfile.mkdtemp(prefix="pyx12-maps-")
    for name in MAPS:
        text = src.joinpath(name).read_bytes()
        if name.startswith(("x12.control", "997", "999")):
            tree = ET.ElementTree(ET.fromstring(text))
            for el in tree.iter("element"):
                if el.get("xid") in HIPAA_ONLY:
                    for vc in el.findall("valid_codes"):
                        el.remove(vc)
            tree.write(os.path.join(out, name), encoding="utf-8", xml_declaration=True)
        else:
            with open(os.path.join(out, name), "wb") as f:
                f.write(text)
    return out


def flatten(node, where, out):
    for e in node.get("errors", []):
        out.append(f"{where}: {e.get('err_cde')}: {e.get('err_str')}")
    for key, label in (("interchanges", "ISA"), ("groups", "GS"), ("transactions", "ST")):
        for child in node.get(key, []):
            flatten(child, f"{where}/{label}", out)
    for seg in node.get("segments", []):
        here = f"{where}/{seg.get('seg_id')}#{seg.get('seg_count')}"
        for e in seg.get("errors", []):
            out.append(f"{here}: {e.get('err_cde')}: {e.get('err_str')}")
        for ele in seg.get("elements", []):
            for e in ele.get("errors", []):
                out.append(f"{here}/{ele.get('ele_pos')}: {e.get('err_cde')}: {e.get('err_str')}")


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def check_map(path, param, map_path, log):
    fd_json = io.StringIO()
    log.lines.clear()
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=param,
            src_file=path,
            fd_997=None,
            fd_html=None,
            fd_json=fd_json,
            map_path=map_path,
        )
    except (pyx12.errors.EngineError, pyx12.errors.X12Error) as e:
        return False, [f"pyx12: {type(e).__name__}: {e}"]
    errors = []
    if fd_json.getvalue():
        flatten(json.loads(fd_json.getvalue()), "", errors)
    # Anything pyx12 logged as an error but did not put in its error tree still counts.
    errors.extend(f"log: {line}" for line in log.lines if not any(line in e for e in errors))
    return ok, errors


def check_envelope(path, param, map_path):
    errors = []
    control = {}
    try:
        with pyx12.x12file.X12Reader(path) as src:
            name = "x12.control.00501.xml" if src.icvn == "00501" else "x12.control.00401.xml"
            cmap = pyx12.map_if.load_map_file(name, param, map_path)
            for xid, p in (
                ("ISA", "/ISA_LOOP/ISA"),
                ("GS", "/ISA_LOOP/GS_LOOP/GS"),
                ("GE", "/ISA_LOOP/GS_LOOP/GE"),
                ("TA1", "/ISA_LOOP/TA1"),
                ("IEA", "/ISA_LOOP/IEA"),
            ):
                control[xid] = cmap.getnodebypath(p)
            n = 0
            for seg in src:
                n += 1
                sid = seg.get_seg_id()
                node = control.get(sid)
                if node is not None:
                    _, errs = node.is_valid_errors(seg)
                    for e in errs:
                        errors.append(f"/{sid}#{n}: {e.err_cde}: {e.err_str}")
                for level, code, text, _val, _line in src.pop_errors():
                    errors.append(f"/{sid}#{n}: {level} {code}: {text}")
            src.cleanup()
            for level, code, text, _val, _line in src.pop_errors():
                errors.append(f"/EOF: {level} {code}: {text}")
    except (pyx12.errors.EngineError, pyx12.errors.X12Error) as e:
        errors.append(f"pyx12: {type(e).__name__}: {e}")
    return not errors, errors


def main():
    mode, paths = sys.argv[1], sys.argv[2:]
    log = Collect()
    logging.getLogger("pyx12").addHandler(log)
    logging.getLogger("pyx12").propagate = False
    map_path = widened_maps()
    try:
        param = pyx12.params.params()
        param.set("map_path", map_path)
        for path in paths:
            if mode == "map":
                ok, errors = check_map(path, param, map_path, log)
            elif mode == "envelope":
                ok, errors = check_envelope(path, param, map_path)
            else:
                sys.exit(f"unknown mode {mode}")
            print(json.dumps({"file": path, "valid": ok, "errors": errors}))
    finally:
        shutil.rmtree(map_path, ignore_errors=True)


if __name__ == "__main__":
    main()
