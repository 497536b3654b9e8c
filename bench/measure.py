#!/usr/bin/env python3
"""measure.py times commands side by side for bench/'s scripts.

Every command is run RUNS times, in rounds: each round runs every command
once, in an order that rotates from round to round, so the load of a shared
machine drifts over all of them alike. Each run's stdout goes into a
pseudo-terminal (--sink pty: a real tty, line discipline and all, read as
fast as a terminal emulator could), a pipe (--sink pipe) or a file (--sink
file, read back after the run); the occurrences of the command's pattern in
it must equal --expect or the run fails. It records the wall time (start to
exit, with all output read) and the peak RSS and CPU time of the command's
process (/usr/bin/time), and prints medians and the medians of the
per-round ratios named by --target, with a verdict when a limit is given.

  measure.py --sink pty --expect 200000 --runs 5 \\
      --case cat  'pattern' null 'exec cat out.jsonl' \\
      --case wsinspect 'pattern' null 'exec wsinspect --json --stay URL' \\
      --target 'wsinspect/cat:time<=1.5'

A case is NAME PATTERN STDIN COMMAND: PATTERN is a literal string ("lines"
counts newlines; "-" checks nothing), STDIN is null (/dev/null) or hold (a
pipe kept open and never written, as an idle keyboard), COMMAND a sh
command line (use exec so the measured process is the command itself).
"""
import argparse
import fcntl
import io
import os
import re
import statistics
import struct
import subprocess
import sys
import termios
import time


def run_once(case, sink, tmp, prepare=""):
    name, pattern, stdin_mode, command = case
    if prepare:
        subprocess.run(["/bin/sh", "-c", prepare], check=True)
    pat = b"\n" if pattern == "lines" else pattern.encode()
    keep = len(pat) - 1
    if pattern == "-":
        pat, keep = b"\n", 0  # counted, not checked
    err_path = os.path.join(tmp, "stderr-" + re.sub(r"\W", "_", name))
    time_path = err_path.replace("stderr-", "time-")
    with open(err_path, "wb") as err:
        stdin = subprocess.PIPE if stdin_mode == "hold" else subprocess.DEVNULL
        out_path = os.path.join(tmp, "out-" + re.sub(r"\W", "_", name))
        if sink == "pty":
            master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            out_fd, read_fd = slave, master
        elif sink == "pipe":
            read_fd, out_fd = os.pipe()
        else:
            out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        start = time.monotonic()
        # /usr/bin/time measures peak RSS and CPU: its child is a fork of a
        # small process, whereas a child of this one would count Python's
        # own memory (the RSS before exec counts in ru_maxrss).
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", "-o", time_path, "/bin/sh", "-c", command],
                             stdin=stdin, stdout=out_fd, stderr=err, start_new_session=True)
        os.close(out_fd)
        if sink == "file":
            p.wait()  # the output is read back once the run is over
            wall = time.monotonic() - start
            read_fd = os.open(out_path, os.O_RDONLY)
        count, tail, total = 0, b"", 0
        buf = bytearray(1 << 16)  # reused: a new 1 MiB bytes per read costs more than the pty
        f = io.FileIO(read_fd, closefd=False)
        while True:
            try:
                n = f.readinto(buf)
            except OSError:  # EIO: the pty's other side is closed
                break
            if not n:
                break
            total += n
            if keep:
                # Matches that start in the previous read and end in this one.
                count += (tail + bytes(buf[:min(n, keep)])).count(pat)
                tail = (tail + bytes(buf[:n]))[-keep:] if n < keep else bytes(buf[n - keep:n])
            count += buf.count(pat, 0, n)
        os.close(read_fd)
        p.wait()
        if sink != "file":
            wall = time.monotonic() - start
        else:
            os.remove(out_path)
        if p.stdin:
            p.stdin.close()
    ok = p.returncode == 0
    rss = utime = stime = 0.0
    try:
        rss, utime, stime = map(float, open(time_path).read().split()[-3:])
    except (OSError, ValueError):
        ok = False
    return {
        "wall": wall, "rss": rss / 1024, "cpu": utime + stime,
        "count": count, "bytes": total, "ok": ok, "rc": p.returncode, "stderr": err_path,
    }


def fmt_time(s):
    return f"{s:.3f} s" if s < 100 else f"{s:.0f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sink", choices=["pty", "pipe", "file"], required=True,
                    help="stdout is a pty, a pipe, or a file (read back after the run, then removed)")
    ap.add_argument("--prepare", default="", help="a sh command run before every run, untimed")
    ap.add_argument("--expect", type=int, required=True, help="occurrences of each pattern per run")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="untimed checked runs of each case first")
    ap.add_argument("--title", default="")
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--case", nargs=4, action="append", required=True, metavar=("NAME", "PATTERN", "STDIN", "COMMAND"))
    ap.add_argument("--target", action="append", default=[], help="NAME/REF:time|rss[<=X|<X]: print the median per-round ratio, with a verdict when a limit is given")
    a = ap.parse_args()

    cases = a.case
    names = [c[0] for c in cases]
    results = {n: [] for n in names}
    failed = False

    def check(case, r):
        nonlocal failed
        if (case[1] != "-" and r["count"] != a.expect) or not r["ok"]:
            failed = True
            err = open(r["stderr"], errors="replace").read()[-600:]
            print(f"{case[0]}: exit {r['rc']}, printed {r['count']} of {a.expect} (pattern {case[1]!r}, {r['bytes']} bytes)\n{err}",
                  file=sys.stderr)
            return False
        return True

    for _ in range(a.warmup):
        for c in cases:
            if not check(c, run_once(c, a.sink, a.tmp, a.prepare)):
                sys.exit(1)
    rounds = []
    for i in range(a.runs):
        k = i % len(cases)
        rnd = {}
        for c in cases[k:] + cases[:k]:
            r = run_once(c, a.sink, a.tmp, a.prepare)
            if not check(c, r):
                sys.exit(1)
            results[c[0]].append(r)
            rnd[c[0]] = r
        rounds.append(rnd)

    med = lambda xs: statistics.median(xs)
    if a.title:
        print(a.title)
    print(f"{'':22s} {'median':>9s} {'min':>9s} {'max':>9s} {'msg/s':>10s} {'peak RSS':>9s} {'CPU':>8s}   ({a.runs} runs each, all checked: {a.expect:,} printed)")
    for n in names:
        rs = results[n]
        w = [r["wall"] for r in rs]
        print(f"{n:22s} {fmt_time(med(w)):>9s} {fmt_time(min(w)):>9s} {fmt_time(max(w)):>9s} "
              f"{a.expect / med(w):>10,.0f} {med([r['rss'] for r in rs]):>6.1f} MiB {med([r['cpu'] for r in rs]):>6.2f} s")

    ok_all = True
    for t in a.target:
        m = re.fullmatch(r"([\w.+-]+)/([\w.+-]+):(time|rss)(?:(<=|<)([\d.]+))?", t)
        if not m:
            sys.exit(f"bad --target {t}")
        n, ref, metric, op = m.group(1), m.group(2), m.group(3), m.group(4)
        key = "wall" if metric == "time" else "rss"
        ratios = [rnd[n][key] / rnd[ref][key] for rnd in rounds]
        r = med(ratios)
        verdict = ""
        if op:
            lim = float(m.group(5))
            ok = r <= lim if op == "<=" else r < lim
            ok_all = ok_all and ok
            verdict = f"; target {op} {lim:g}: {'PASS' if ok else 'FAIL'}"
        print(f"{n + ' / ' + ref + ' ' + metric:34s} {r:5.2f}x  (median of {len(ratios)} per-round ratios, "
              f"{min(ratios):.2f}-{max(ratios):.2f}){verdict}")
    sys.exit(1 if failed else 0 if ok_all else 3)


if __name__ == "__main__":
    main()
