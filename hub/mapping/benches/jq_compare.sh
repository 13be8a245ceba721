#!/usr/bin/env bash
# Whole process against whole process: `BIN map` over a 100,000-record JSON-lines file versus
# Debian's `jq -c` doing the same transform to the same output. Checks that both outputs are
# byte-identical, then prints both wall times and the ratio.
#
#   hub/mapping/benches/jq_compare.sh BIN [RECORDS]
#
# BIN is anything with the `switchyard map` command line: the daemon binary (`switchyard`) or,
# until it is wired, the crate's example (`cargo build --release -p switchyard-mapping
# --example map`, then BIN=$CARGO_TARGET_DIR/release/examples/map).
set -euo pipefail

BIN=${1:?usage: jq_compare.sh BIN [RECORDS]}
N=${2:-100000}
JQ=${JQ:-/usr/bin/jq}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Input: canonical-ish product rows with padding to trim, lower-case SKUs and missing currencies.
"$JQ" -nc --argjson n "$N" '
  range($n) | {
    sku: ("a36-pl-" + tostring),
    name: ("  Steel plate " + tostring + "  "),
    uom: (if . % 3 == 0 then "FT" else "EA" end),
    price: ((. % 997) | tostring | . + ".25"),
    currency: (if . % 5 == 0 then "" else "USD" end),
    qty: (. % 1000 | tostring),
    grade: "A36"
  }' > "$WORK/in.jsonl"

# Two transforms, both measured in this one run: "copy" (copy, upper-case, default, nesting; no
# regex in jq; the input has no blank-but-not-empty currencies, so `== ""` matches our
# "missing or empty" default) and "trim" (adds trimming, which jq 1.6 can only do with regex `sub`).
write_mapping() { # $1 = title rule
  cat > "$WORK/bench.toml" <<TOML
version = 1
source = { format = "jsonl" }
target = { format = "jsonl" }

[fields]
sku = { from = "sku", upper = true }
title = $1
unit = "uom"
"price.amount" = "price"
"price.currency" = { from = "currency", default = "USD" }
stock = "qty"
grade = "grade"
TOML
}

jq_prog() { # $1 = title expression
  printf '{sku: (.sku | ascii_upcase), title: %s, unit: .uom, price: {amount: .price, currency: (if (.currency // "") == "" then "USD" else .currency end)}, stock: .qty, grade: .grade}' "$1"
}

now() { date +%s.%N; }

run() { # $1 = name, $2 = mapping title rule, $3 = jq title expression
  write_mapping "$2"
  local prog t0 t1 t2
  prog=$(jq_prog "$3")
  t0=$(now)
  "$BIN" map --mapping "$WORK/bench.toml" --input "$WORK/in.jsonl" --format jsonl > "$WORK/ours.jsonl"
  t1=$(now)
  "$JQ" -c "$prog" "$WORK/in.jsonl" > "$WORK/jq.jsonl"
  t2=$(now)
  if ! cmp -s "$WORK/ours.jsonl" "$WORK/jq.jsonl"; then
    echo "$1: outputs differ:" >&2
    diff <(head -5 "$WORK/ours.jsonl") <(head -5 "$WORK/jq.jsonl") >&2 || true
    exit 1
  fi
  local lines
  lines=$(wc -l < "$WORK/ours.jsonl")
  awk -v name="$1" -v a="$t0" -v b="$t1" -v c="$t2" -v n="$lines" 'BEGIN {
    ours = b - a; jq = c - b;
    printf "[%s] records: %d (outputs identical)\n", name, n;
    printf "[%s] switchyard map: %.3f s (%.0f records/s)\n", name, ours, n / ours;
    printf "[%s] jq -c:          %.3f s (%.0f records/s)\n", name, jq, n / jq;
    printf "[%s] ratio:          %.1fx faster than jq\n", name, jq / ours;
  }'
}

run copy '"name"' '.name'
run trim '{ from = "name", trim = true }' '(.name | sub("^\\s+"; "") | sub("\\s+$"; ""))'
