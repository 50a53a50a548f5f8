#!/usr/bin/env python3
"""
What V8's optimising compiler did during each timed drain of a bench run, from its trace:

  BENCH_MARK_GO=1 BENCH_REPEATS=1 BENCH_WORKER_NODE_ARGS="--trace-opt --trace-deopt" \
    BENCH_SYSTEMS=doctor-job,raw BENCH_WORKLOADS=drain BENCH_SAVE=0 node .bench-build/bench/run.js > trace.txt
  python3 bench/v8-trace-summary.py trace.txt

Per system: the functions compiled between `=== TIMED GO` and `=== TIMED END` with the time each
compile took (ms, wall time of the compiler's thread: it stretches when the thread waits for a core)
and the deoptimisations with their reasons. A function compiled twice was thrown away once.
"""
import re
import sys

current = None
total = {}
events = {}
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    marker = re.match(r'=== TIMED (GO|END) (\S+)', line)
    if marker:
        current = marker.group(2) if marker.group(1) == 'GO' else None
        continue
    if not current:
        continue
    done = re.search(r'completed compiling \S+ <JSFunction (\S*) .*took ([\d.]+), ([\d.]+), ([\d.]+) ms', line)
    if done:
        ms = sum(float(done.group(k)) for k in (2, 3, 4))
        total[current] = total.get(current, 0) + ms
        events.setdefault(current, []).append((ms, done.group(1)))
    elif 'bailout (kind' in line:
        name = re.search(r'<JSFunction (\S*)', line)
        reason = re.search(r'reason: ([^)]*)', line)
        events.setdefault(current, []).append((0, f"deopt of {name.group(1) if name else '?'}: {reason.group(1) if reason else '?'}"))
for system, ms in total.items():
    compiled = [e for e in events[system] if e[0] > 0]
    print(f'{system}: {len(compiled)} compiles, {ms:.1f} ms')
    print('   ' + ', '.join(f'{name} {t:.1f}' if t else name for t, name in sorted(events[system], reverse=True)))
