#!/usr/bin/python3
# Copyright (C) 2026 The vss authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Draws the curves of a vss-bench run (its --csv directory) as PNG and SVG.

    sudo _build/bench/vss-bench --csv /tmp/vss-bench-csv
    bench/plot-bench.py /tmp/vss-bench-csv bench/results

scale-subvolumes   the freeze window and the backup cycle against the
                   subvolumes in the set, one line per writer count, beside
                   the same snapshots taken without any service
scale-writers      the same against the writers taking part (one
                   subvolume), beside the floor service's window
memory             vssd's resident set against the writers registered, and
                   after they took part in a full backup

Needs matplotlib (Debian: python3-matplotlib); the figures use its Agg backend,
no display.
"""

import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (the backend comes first)
from matplotlib.ticker import FixedLocator, ScalarFormatter  # noqa: E402

WRITER_COLOURS = {10: '#1f77b4', 100: '#ff7f0e', 1000: '#2ca02c'}


def read(directory, name):
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def number(text):
    return float(text) if text not in ('', None) else float('nan')


def subtitle(run):
    if not run:
        return ''
    line = run[0]
    smoke = ' — SMOKE RUN, figures meaningless' if line.get('smoke') == 'true' else ''
    return (f"{line['date']}, {line['cpu']} ({line['cores']} cores), load average "
            f"{line['load_start']} before, {line['load_end']} after{smoke}")


def log2_axis(axis, ticks):
    axis.set_xscale('log', base=2)
    axis.xaxis.set_major_locator(FixedLocator(ticks))
    axis.xaxis.set_major_formatter(ScalarFormatter())
    axis.xaxis.set_minor_locator(FixedLocator([]))


def log10_axis(axis, ticks):
    axis.set_xscale('log')
    axis.xaxis.set_major_locator(FixedLocator(ticks))
    axis.xaxis.set_major_formatter(ScalarFormatter())
    axis.xaxis.set_minor_locator(FixedLocator([]))


def errorbars(rows):
    """(median, [below, above]) with the p95 as the upper whisker."""
    medians = [number(r['median_ms']) for r in rows]
    above = [max(0.0, number(r['p95_ms']) - m) for r, m in zip(rows, medians)]
    return medians, [[0.0] * len(rows), above]


def save(figure, out, name):
    figure.tight_layout(rect=(0, 0, 1, 0.9))
    for ext in ('png', 'svg'):
        figure.savefig(os.path.join(out, f'{name}.{ext}'), dpi=110, bbox_inches='tight')
    plt.close(figure)
    print(os.path.join(out, name + '.png'))


def plot_subvolumes(scale, raw, run, out):
    figure, (window, cycle) = plt.subplots(1, 2, figsize=(12, 4.8))
    subvolumes = sorted({int(r['subvolumes']) for r in scale + raw})
    for writers in sorted({int(r['writers']) for r in scale}):
        for axis, what in ((window, 'window'), (cycle, 'cycle')):
            rows = sorted((r for r in scale if int(r['writers']) == writers and r['what'] == what),
                          key=lambda r: int(r['subvolumes']))
            if not rows:
                continue
            medians, whiskers = errorbars(rows)
            axis.errorbar([int(r['subvolumes']) for r in rows], medians, yerr=whiskers,
                          marker='o', capsize=3, color=WRITER_COLOURS.get(writers),
                          label=f'vssd, {writers} writers')
    for how, style in (('sequential', '--'), ('concurrent', ':')):
        rows = sorted((r for r in raw if r['how'] == how), key=lambda r: int(r['subvolumes']))
        if rows:
            medians, whiskers = errorbars(rows)
            label = ('libbtrfsutil, one after another' if how == 'sequential'
                     else 'libbtrfsutil, 16 threads')
            window.errorbar([int(r['subvolumes']) for r in rows], medians, yerr=whiskers,
                            linestyle=style, marker='s', color='grey', capsize=3, label=label)
    window.set_title('Freeze window (Freeze received → Thaw received)')
    cycle.set_title('Backup cycle (CreateBackupComponents → Release)')
    for axis in (window, cycle):
        log2_axis(axis, subvolumes)
        axis.set_yscale('log')
        axis.set_xlabel('subvolumes in the set')
        axis.set_ylabel('ms (median; whisker: p95)')
        axis.grid(True, which='both', alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle('vss-bench: cost against the subvolumes of a set\n' + subtitle(run),
                    fontsize=10)
    save(figure, out, 'scale-subvolumes')


def plot_writers(scale, run, out):
    figure, (window, cycle) = plt.subplots(1, 2, figsize=(12, 4.8))
    writers = sorted({int(r['writers']) for r in scale})
    for what, axis, label, style in (('window', window, 'vssd', '-'),
                                     ('floor_window', window, 'floor service', '--'),
                                     ('cycle', cycle, 'vssd', '-')):
        rows = sorted((r for r in scale if int(r['subvolumes']) == 1 and r['what'] == what),
                      key=lambda r: int(r['writers']))
        if not rows:
            continue
        medians, whiskers = errorbars(rows)
        axis.errorbar([int(r['writers']) for r in rows], medians, yerr=whiskers,
                      marker='o', linestyle=style, capsize=3, label=label)
    window.set_title('Freeze window, one subvolume')
    cycle.set_title('Backup cycle, one subvolume')
    for axis in (window, cycle):
        log10_axis(axis, writers)
        axis.set_yscale('log')
        axis.set_xlabel('C writers taking part (one connection each)')
        axis.set_ylabel('ms (median; whisker: p95)')
        axis.grid(True, which='both', alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle('vss-bench: cost against the writers taking part\n' + subtitle(run),
                    fontsize=10)
    save(figure, out, 'scale-writers')


def plot_memory(memory, run, out):
    figure, axis = plt.subplots(figsize=(8, 5.6))
    rows = sorted(memory, key=lambda r: int(r['writers']))
    writers = [int(r['writers']) for r in rows]
    for key, label, marker in (('idle_kib', 'idle (fresh)', 's'),
                               ('registered_kib', 'writers registered', 'o'),
                               ('after_cycle_kib', 'after they took part in a full backup', '^')):
        axis.plot(writers, [number(r[key]) / 1024 for r in rows], marker=marker, label=label)
    # what the writers add over idle; per writer only where they dominate
    # the fixed part (code pages a backup touches, GLib's caches)
    for r in rows:
        extra_kib = number(r['after_cycle_kib']) - number(r['idle_kib'])
        label = f'+{extra_kib / 1024:.2f} MiB'
        if r is rows[-1]:
            label += f'\n= {extra_kib / int(r["writers"]):.2f} KiB per writer'
        axis.annotate(label, (int(r['writers']), number(r['after_cycle_kib']) / 1024),
                      textcoords='offset points', xytext=(-130 if r is rows[-1] else -20,
                                                          -12 if r is rows[-1] else 6),
                      fontsize=8)
    axis.margins(y=0.12)
    log10_axis(axis, writers)
    axis.set_xlabel('writers (one connection each)')
    axis.set_ylabel('vssd VmRSS, MiB')
    axis.set_title('vssd resident memory (target: < 4 KiB per writer after a backup)')
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    figure.suptitle('vss-bench: memory\n' + subtitle(run), fontsize=10)
    save(figure, out, 'memory')


def self_test(out_dir):
    """Draws made-up figures (meson test bench-plot): the script and matplotlib work."""
    csv_dir = os.path.join(out_dir, 'csv')
    os.makedirs(csv_dir, exist_ok=True)
    tables = {
        'scale.csv': ['writers,subvolumes,what,median_ms,p95_ms,ci_low_ms,ci_high_ms,samples']
        + [f'{w},{s},{what},{s + w / 10 + k},{s + w / 8 + k},{s},{s + 1},10'
           for w in (10, 100, 1000) for s in (1, 4, 16, 64)
           for k, what in enumerate(('window', 'cycle'))]
        + [f'{w},1,floor_window,{1 + w / 12},{2 + w / 10},1,2,10' for w in (10, 100, 1000)],
        'raw.csv': ['subvolumes,how,median_ms,p95_ms,ci_low_ms,ci_high_ms,samples']
        + [f'{s},{how},{s * f},{s * f * 1.2},{s * f},{s * f},10'
           for s in (1, 4, 16, 64) for how, f in (('sequential', 1.0), ('concurrent', 0.4))],
        'memory.csv': ['writers,idle_kib,registered_kib,after_cycle_kib']
        + [f'{w},7000,{7000 + w},{7000 + 2 * w}' for w in (10, 100, 1000)],
        'run.csv': ['date,cpu,cores,kernel,load_start,load_end,smoke',
                    '"now","a CPU",2,"Linux","0.1","0.2",true'],
    }
    for name, lines in tables.items():
        with open(os.path.join(csv_dir, name), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return csv_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('csv_dir', nargs='?', help="vss-bench's --csv directory")
    parser.add_argument('out_dir', help='where the PNG and SVG files go')
    parser.add_argument('--self-test', action='store_true',
                        help='draw made-up figures into OUT_DIR (no csv_dir)')
    args = parser.parse_args()
    if args.self_test:
        args.csv_dir = self_test(args.out_dir)
    elif args.csv_dir is None:
        parser.error('csv_dir is needed')
    scale = read(args.csv_dir, 'scale.csv')
    raw = read(args.csv_dir, 'raw.csv')
    memory = read(args.csv_dir, 'memory.csv')
    run = read(args.csv_dir, 'run.csv')
    if not (scale or memory):
        sys.exit(f'{args.csv_dir}: no scale.csv or memory.csv')
    os.makedirs(args.out_dir, exist_ok=True)
    if scale or raw:
        plot_subvolumes(scale, raw, run, args.out_dir)
    if scale:
        plot_writers(scale, run, args.out_dir)
    if memory:
        plot_memory(memory, run, args.out_dir)


if __name__ == '__main__':
    main()
