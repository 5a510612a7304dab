#!/usr/bin/env python3
"""Where the loaded latency goes, from a traced run:

    .build/release/mbench --only latency --trace /tmp/trace
    python3 bench/latency-trace.py /tmp/trace

Splits each line's latency into agent stamp -> commit (the event's `ts`, taken
as the writer's round starts), commit -> kernel receive at the client, and
receive -> the client thread's read; then finds the stalls: 10 ms windows in
which lines were later than 15 ms, grouped into clusters.
"""
import collections, datetime, json, sqlite3, sys

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]

def summary(name, values):
    print('%-26s p50 %6.2f  p90 %6.2f  p99 %6.2f  max %7.1f ms' % (name, pct(values, .5), pct(values, .9), pct(values, .99), max(values)))

def main(folder):
    committed = {}
    db = sqlite3.connect(folder + '/m.db')
    for ts, data in db.execute("SELECT ts, data FROM events WHERE type = 'output'"):
        at = datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp()
        for line in json.loads(data).get('text', '').splitlines():
            if line.startswith('t='):
                committed[int(line.split()[0][2:])] = at * 1e9
    frames = [tuple(map(int, line.split())) for line in open(folder + '/frames.txt')]
    summary('stamp -> client (kernel)', [(r - s) / 1e6 for s, r, _ in frames])
    summary('stamp -> commit', [(committed[s] - s) / 1e6 for s, _, _ in frames if s in committed])
    summary('commit -> client (kernel)', [(r - committed[s]) / 1e6 for s, r, _ in frames if s in committed])
    summary('kernel -> client read', [(n - r) / 1e6 for _, r, n in frames])
    late = collections.Counter(s // 10_000_000 for s, r, _ in frames if r - s > 15e6)
    everything = collections.Counter(s // 10_000_000 for s, _, _ in frames)
    clusters = []
    for window in sorted(late):
        if clusters and window - clusters[-1][1] <= 3:
            clusters[-1][1] = window
        else:
            clusters.append([window, window])
    start = min(everything)
    print('lines later than 15 ms: %d of %d, in %d of %d 10-ms windows, %d stalls:'
          % (sum(late.values()), len(frames), len(late), len(everything), len(clusters)))
    print('  ' + ' '.join('%.2fs(%dms)' % ((a - start) / 100, (b - a + 1) * 10) for a, b in clusters))

if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.')
