#!/usr/bin/python3
"""Prints the fault matrix of tests/test_reliability.py: faults tried, faults
survived, one row per test, from the results its tests wrote to
$VSS_BUILD_ROOT/fault-matrix/<test>.json.

Run by meson as the test 'fault-matrix-summary', after every other test (it
has the lowest priority). It reads the results of the newest run (one meson
test run is one parent process; see run_id() in test_reliability.py) and
fails if a test of test_reliability.py has no result in that run, or if a
fault was not survived.

    fault-matrix-summary.py [RESULTS_DIR]
"""

import json
import os
import sys
import textwrap

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS_DIR)
from unittest_inspector import list_tests  # noqa: E402


def main():
    if os.geteuid() != 0:
        print('the reliability tests need root; nothing to summarize')
        return 77
    root = os.environ.get('VSS_BUILD_ROOT') or os.path.join(TESTS_DIR, '..', '_build')
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'fault-matrix')
    expected = list_tests(os.path.join(TESTS_DIR, 'test_reliability.py'))

    results = []
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith('.json'):
                with open(os.path.join(directory, name)) as f:
                    results.append(json.load(f))
    if not results:
        print(f'no fault matrix results in {directory}: run test_reliability.py first')
        return 1
    newest = max(results, key=lambda r: r['time'])['run']
    current = {r['test']: r for r in results if r['run'] == newest}

    rows, problems = [], []
    for test in expected:
        record = current.get(test)
        if record is None:
            rows.append(('?', test, 'NOT RUN', ''))
            problems.append(f'{test}: no result in this run')
            continue
        if record['survived']:
            verdict = 'survived'
        else:
            verdict = 'NOT SURVIVED'
            problems.append(f'{test}: {record["error"] or "the invariants were not checked"}')
        notes = '; '.join(f'{k}: {v}' for k, v in record['notes'].items())
        if record['error'] and not record['survived']:
            notes = (notes + '; ' if notes else '') + record['error']
        rows.append((record['category'], record['fault'], verdict, notes))

    tried = sum(1 for r in rows if r[2] != 'NOT RUN')
    survived = sum(1 for r in rows if r[2] == 'survived')
    width = max(len(r[1]) for r in rows)
    cat_width = max(len(r[0]) for r in rows)
    lines = [f'Fault matrix of test_reliability.py (run {newest}, {directory})', '']
    lines.append(f'{"category":{cat_width}}  {"fault":{width}}  result')
    lines.append(f'{"-" * cat_width}  {"-" * width}  {"-" * 8}')
    for category, fault, verdict, notes in rows:
        lines.append(f'{category:{cat_width}}  {fault:{width}}  {verdict}')
        for note in textwrap.wrap(notes, 100):
            lines.append(f'{"":{cat_width}}      {note}')
    lines.append('')
    lines.append(f'faults tried: {tried} of {len(expected)}, survived: {survived}, '
                 f'failed: {len(problems)}')
    for problem in problems:
        lines.append(f'FAILED: {problem}')
    table = '\n'.join(lines)
    print(table)
    with open(os.path.join(directory, 'SUMMARY.txt'), 'w') as f:
        f.write(table + '\n')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
