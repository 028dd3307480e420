#!/usr/bin/python3
"""Sums JUnit XML reports into the one closing line CI reads:
"N passed, N failed[, N skipped]". Exits 1 if anything failed or a report
is missing (a suite that did not run is a failure, not a pass)."""
import sys
import xml.etree.ElementTree as ET


def count(path):
    passed = failed = skipped = 0
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" in kinds:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(paths):
    totals = [0, 0, 0]
    missing = 0
    for p in paths:
        try:
            for i, n in enumerate(count(p)):
                totals[i] += n
        except (OSError, ET.ParseError) as e:
            print(f"test report {p} is missing or unreadable: {e}", file=sys.stderr)
            missing += 1
    passed, failed, skipped = totals
    failed += missing
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
