"""Turns bench/out/accounts-run/*.json (written by bench/accounts.sh) into a table on stdout,
results.json in the same folder, and a section appended to bench/RESULTS.md (unless
BENCH_NO_RESULTS_MD=1), with PASS/FAIL against the targets and the correctness checks.

Usage: BENCH_META='{...}' python3 bench/accounts_report.py RAW_DIR RESULTS_MD
"""

import json
import os
import sys
from pathlib import Path

MB = 1_000_000

# (part, record name) in the order of the run.
RUNS = [
    ("me", "ours-me"), ("me", "pb-me"), ("me", "echo"),
    ("refresh", "ours-refresh"), ("refresh", "pb-refresh"),
    ("login", "ours-login"), ("login", "pb-login"),
    ("flood", "ours-idle-signup"), ("flood", "ours-idle-me"),
    ("flood", "ours-flood-signup"), ("flood", "ours-flood-me"),
]
STATUS_KEYS = ("c2xx", "c3xx", "c4xx", "c5xx", "cother")


def load(raw: Path, name: str):
    path = raw / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def derive(s: dict) -> dict:
    w = s["wrk"]
    secs = w["duration_us"] / 1e6
    # The CPU figures are over the window between the readings around the wrk run (the server
    # ticks, the machine's); wrk's own CPU time is over its run, within that window.
    wall = float(s.get("window_s") or s.get("wrk_wall_s") or secs)
    side = float(s.get("side_wrk_cpu_s") or 0)
    d = {
        "label": s["label"],
        "connections": s.get("connections"),
        "delay_ms": s.get("delay_ms", 0),
        "requests": w["requests"],
        "duration_s": round(secs, 3),
        "rps_all": w["requests"] / secs,
        "rps_2xx": w["c2xx"] / secs,
        "responses": {k: w.get(k, 0) for k in STATUS_KEYS},
        "unexpected": w.get("unexpected", 0),
        "socket_errors": {k: w[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")},
        "p50_ms": w["p50_us"] / 1000,
        "p90_ms": w["p90_us"] / 1000,
        "p99_ms": w["p99_us"] / 1000,
        "p999_ms": w["p999_us"] / 1000,
        "max_ms": w["max_us"] / 1000,
        "rss_kb": s.get("rss_kb"),
        "peak_rss_kb": s.get("peak_rss_kb"),
        "threads": s.get("threads"),
        "server_cpu_util": s["server_cpu_s"] / wall,
        "wrk_cpu_util": s["wrk_cpu_s"] / wall,
        "flood_wrk_cpu_util": side / wall,
        "foreign_cpu_util": max(0.0, s["machine_busy_s"] - s["server_cpu_s"] - s["wrk_cpu_s"] - side) / wall,
        "threads_cpu_s": s.get("threads_cpu_s"),
        "loadavg_before": s.get("loadavg_before"),
        "loadavg_after": s.get("loadavg_after"),
    }
    for k in ("chain_lost", "starved", "pool_left"):
        if k in w:
            d[k] = w[k]
    warm = s.get("warmup")
    if warm:
        d["warmup"] = {k: warm.get(k, 0) for k in ("requests", "c2xx", "c4xx", "c5xx", "unexpected",
                                                   "chain_lost", "starved", "pool_left")}
    return d


def fmt_mb(kb):
    return f"{kb * 1024 / MB:.1f} MB" if kb else "n/a"


def all_2xx(d: dict) -> bool:
    """Every answer of the warm-up and the measured run a 2xx with the expected body."""
    warm = d.get("warmup") or {"requests": 0, "c2xx": 0, "unexpected": 0}
    return (d["responses"]["c2xx"] == d["requests"] and warm["c2xx"] == warm["requests"]
            and d["unexpected"] == 0 and warm.get("unexpected", 0) == 0 and d["requests"] > 0)


def fives(d: dict) -> int:
    return d["responses"]["c5xx"] + (d.get("warmup") or {}).get("c5xx", 0)


def main() -> int:
    raw, results_md = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads(os.environ["BENCH_META"])
    conns = meta["connections"]
    runs = {}
    for part, name in RUNS:
        s = load(raw, name)
        if s is not None:
            runs[name] = dict(derive(s), part=part)
    ceiling_raw = load(raw, "argon2-ceiling")
    ceiling = None
    if ceiling_raw:
        r = ceiling_raw["result"]
        wall = float(ceiling_raw.get("wall_s") or 1)
        proc = float(ceiling_raw.get("process_cpu_s") or r.get("cpu_s") or 0)
        ceiling = dict(r, label=ceiling_raw["label"],
                       foreign_cpu_util=max(0.0, ceiling_raw["machine_busy_s"] - proc) / wall)
    flood_raw = load(raw, "ours-flood-logins")
    flood = None
    if flood_raw:
        w = flood_raw["wrk"]
        secs = w["duration_us"] / 1e6
        flood = {"label": flood_raw["label"], "requests": w["requests"], "duration_s": secs,
                 "rps_all": w["requests"] / secs, "rps_2xx": w["c2xx"] / secs,
                 "responses": {k: w.get(k, 0) for k in STATUS_KEYS},
                 "socket_errors": {k: w[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")},
                 "p50_ms": w["p50_us"] / 1000, "p99_ms": w["p99_us"] / 1000}

    get = runs.get
    ratios, targets, checks = {}, [], []

    def target(text, value, ok):
        targets.append({"target": text, "value": value, "pass": bool(ok)})

    # 1. /users/me
    if get("ours-me") and get("pb-me"):
        r = ratios["me_ours_over_pocketbase"] = get("ours-me")["rps_2xx"] / get("pb-me")["rps_2xx"]
        target("/users/me >= 5x PocketBase (req/s 2xx)", f"{r:.2f}x", r >= 5)
    if get("ours-me") and get("echo"):
        r = ratios["me_ours_over_echo"] = get("ours-me")["rps_2xx"] / get("echo")["rps_2xx"]
        target("/users/me >= 40% of the echo ceiling", f"{100 * r:.1f}%", r >= 0.4)
    # 2. refresh
    if get("ours-refresh") and get("pb-refresh"):
        r = ratios["refresh_ours_over_pocketbase"] = (get("ours-refresh")["rps_2xx"]
                                                      / get("pb-refresh")["rps_2xx"])
        target("refresh >= 3x PocketBase (req/s 2xx)", f"{r:.2f}x", r >= 3)
    # 3. login
    if get("ours-login") and ceiling:
        r = ratios["login_over_argon2_ceiling"] = get("ours-login")["rps_2xx"] / ceiling["hashes_per_s"]
        target("login >= 90% of the argon2 ceiling",
               f"{get('ours-login')['rps_2xx']:.1f} logins/s / {ceiling['hashes_per_s']:.1f} verifies/s "
               f"= {100 * r:.1f}%", r >= 0.9)
    if get("ours-login") and get("pb-login"):
        ratios["login_ours_over_pocketbase"] = get("ours-login")["rps_2xx"] / get("pb-login")["rps_2xx"]
    # 4. flood
    for route, idle_name, flood_name in (("POST /v1/users", "ours-idle-signup", "ours-flood-signup"),
                                         ("GET /v1/users/me", "ours-idle-me", "ours-flood-me")):
        if get(idle_name) and get(flood_name):
            i, f = get(idle_name)["p99_ms"], get(flood_name)["p99_ms"]
            r = ratios[f"flood_p99_over_idle_{flood_name.rsplit('-', 1)[1]}"] = f / i if i else float("inf")
            target(f"flood p99 <= 2x idle p99, {route}", f"{f:.2f} ms / {i:.2f} ms = {r:.2f}x", r <= 2)

    # ---- correctness -----------------------------------------------------------------------
    def check(text, ok):
        checks.append({"check": text, "ok": bool(ok)})

    for name, d in runs.items():
        if name == "echo":
            continue
        check(f"{d['label']}: every answer 2xx ({d['requests']} + warm-up "
              f"{(d.get('warmup') or {}).get('requests', 0)}; {d['responses']['c4xx']} 4xx, "
              f"{fives(d)} 5xx, {d['unexpected']} unexpected bodies)", all_2xx(d))
    if get("echo"):
        check(f"echo: no 5xx ({fives(get('echo'))})", fives(get("echo")) == 0)
    for name in ("ours-refresh", "pb-refresh"):
        d = get(name)
        if d:
            warm = d.get("warmup") or {}
            lost = d.get("chain_lost", 0) + warm.get("chain_lost", 0)
            starved = d.get("starved", 0) + warm.get("starved", 0)
            check(f"{d['label']}: no chain broken ({lost}), no request without a token ({starved}); "
                  f"{warm.get('pool_left', 'n/a')} chains left after the warm-up, "
                  f"{d.get('pool_left', 'n/a')} after the run", lost == 0 and starved == 0)
    sess = load(raw, "ours-refresh-sessions")
    if sess:
        want = sess["chains"] + 1
        check(f"refresh: the account's active sessions stay the chains + its registration: "
              f"{sess['before']} before, {sess['after']} after, {want} expected",
              sess["before"] == want and sess["after"] == want)
    lsess = load(raw, "ours-login-sessions")
    if lsess and get("ours-login"):
        d = get("ours-login")
        ok_logins = d["responses"]["c2xx"] + (d.get("warmup") or {}).get("c2xx", 0)
        runs_n = 2 if d.get("warmup") else 1
        grown = lsess["after"] - lsess["before"]
        # Logins still in flight when wrk stops may or may not have been answered.
        check(f"login: one new session per login: {grown} sessions more, {ok_logins}.."
              f"{ok_logins + runs_n * conns} expected", ok_logins <= grown <= ok_logins + runs_n * conns)
    if flood:
        e = flood["socket_errors"]
        check(f"{flood['label']}: every answer 2xx ({flood['requests']}; {flood['responses']['c4xx']} 4xx, "
              f"{flood['responses']['c5xx']} 5xx; {e['err_timeout']} timeouts)",
              flood["responses"]["c2xx"] == flood["requests"] and flood["requests"] > 0)

    result = {"meta": meta, "runs": runs, "argon2_ceiling": ceiling, "flood": flood,
              "ratios": ratios, "targets": targets, "checks": checks}
    (raw / "results.json").write_text(json.dumps(result, indent=2) + "\n")

    # ---- table -------------------------------------------------------------------------------
    head = ["part", "run", "conns", "req/s all", "req/s 2xx", "p50 ms", "p99 ms", "p99.9 ms",
            "non-2xx", "RSS after", "threads", "server CPU", "wrk CPU", "other CPU"]
    rows = []
    for part, name in RUNS:
        d = get(name)
        if d is None:
            continue
        conn = f"{d['connections']}" + (f" (+{d['delay_ms']} ms)" if d.get("delay_ms") else "")
        non2xx = d["requests"] - d["responses"]["c2xx"]
        other = f"{100 * d['foreign_cpu_util']:.0f}%"
        if d["flood_wrk_cpu_util"]:
            other += f" (+ flood wrk {100 * d['flood_wrk_cpu_util']:.0f}%)"
        rows.append([part, d["label"], conn, f"{d['rps_all']:.0f}", f"{d['rps_2xx']:.0f}",
                     f"{d['p50_ms']:.2f}", f"{d['p99_ms']:.2f}", f"{d['p999_ms']:.2f}",
                     f"{non2xx} ({d['responses']['c4xx']} 4xx, {d['responses']['c5xx']} 5xx)",
                     fmt_mb(d["rss_kb"]), f"{d.get('threads') or ''}", f"{100 * d['server_cpu_util']:.0f}%",
                     f"{100 * d['wrk_cpu_util']:.0f}%", other])
        if name == "pb-login" and ceiling:
            rows.append(["login", ceiling["label"], f"{ceiling['parallel']} tasks",
                         f"{ceiling['hashes_per_s']:.1f}", f"{ceiling['hashes_per_s']:.1f}", "", "", "",
                         "", "", "", f"{100 * (ceiling.get('cpu_s') or 0) / ceiling['seconds']:.0f}%", "",
                         f"{100 * ceiling['foreign_cpu_util']:.0f}%"])
    if flood:
        rows.append(["flood", flood["label"] + " (during both flood probes)", f"{conns}",
                     f"{flood['rps_all']:.1f}", f"{flood['rps_2xx']:.1f}", f"{flood['p50_ms']:.2f}",
                     f"{flood['p99_ms']:.2f}", "",
                     f"{flood['requests'] - flood['responses']['c2xx']} ({flood['responses']['c4xx']} 4xx, "
                     f"{flood['responses']['c5xx']} 5xx)", "", "", "", "", ""])
    # Login rates need a decimal.
    for name in ("ours-login", "pb-login"):
        d = get(name)
        if d:
            for r in rows:
                if r[1] == d["label"]:
                    r[3], r[4] = f"{d['rps_all']:.1f}", f"{d['rps_2xx']:.1f}"

    def md_table(header, body):
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
        return "\n".join(lines)

    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    print()
    for r in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print()
    for k, v in ratios.items():
        print(f"{k}: {v:.2f}")
    for t in targets:
        print(f"{'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['value']}")
    for c in checks:
        print(f"{'OK  ' if c['ok'] else 'BAD '}  {c['check']}")
    disturbed = [d["label"] for d in runs.values() if d["foreign_cpu_util"] > 0.2]
    if ceiling and ceiling["foreign_cpu_util"] > 0.2:
        disturbed.append(ceiling["label"])
    if disturbed:
        print("WARNING: other processes used more than 0.2 CPU during: " + "; ".join(disturbed))
    print(f"load average: {meta['loadavg_start']} at start, {meta['loadavg_end']} at end; "
          f"results in {raw / 'results.json'}")

    # ---- RESULTS.md --------------------------------------------------------------------------
    if os.environ.get("BENCH_NO_RESULTS_MD") == "1":
        return 0
    md = [f"\n## Accounts, {meta['date']}\n",
          f"- command: `{meta['command']}`",
          f"- commit: {meta['commit']}",
          f"- machine: {meta['nproc']} CPUs ({meta['cpu_model']}), {meta['memory']}, "
          f"Linux {meta['kernel']}; wrk {meta['wrk']}",
          f"- load: {meta['duration_s']} s measured after {meta['warmup_s']} s warm-up, "
          f"{conns} connections, {meta['wrk_threads']} wrk thread(s); server on CPU "
          f"{meta['server_cpu']}, wrk on CPU {meta['client_cpu']}"
          + (f", nice {meta['nice']}" if meta.get("nice") else ""),
          f"- load average: {meta['loadavg_start']} at start, {meta['loadavg_end']} at end "
          "(\"other CPU\" = CPU time used by anything but the server and wrk, in cores)",
          "- Users API (SQLite): workers=1, rate limits off; access tokens EdDSA; "
          + (f"hashing argon2id m={ceiling['memory_kib']} KiB t={ceiling['iterations']} "
             f"p={ceiling['parallelism']}, max_concurrent "
             f"{ceiling['max_concurrent'] if ceiling['max_concurrent'] is not None else 'one per core'} "
             f"({ceiling['cores']} core)" if ceiling else "hashing: config/base.yaml"),
          f"- {meta.get('pocketbase') or 'PocketBase'}: built-in users collection "
          f"({meta.get('pocketbase_rules') or 'n/a'}), request logs off, bcrypt at its default",
          f"- refresh: {meta['refresh_chains']} sessions, each a chain (a token presented once, "
          "its successor put back); PocketBase chained the same way on the token of each answer",
          f"- logins: {meta['login_users']} accounts in turn; flood probe: "
          f"{meta['probe_connections']} connections, {meta['probe_delay_ms']} ms between an answer "
          f"and the next request, beside the {conns}-connection login flood (a second wrk, CPU "
          f"{meta['client_cpu']})"]
    if disturbed:
        md.append("- **disturbed**: other processes used more than 0.2 CPU during: " + "; ".join(disturbed))
    md.append("")
    md.append(md_table(head, rows))
    md.append("")
    if ratios:
        md.append("Ratios: " + "; ".join(f"{k} = {v:.2f}" for k, v in ratios.items()) + "\n")
    for t in targets:
        md.append(f"- **{'PASS' if t['pass'] else 'FAIL'}** {t['target']}: {t['value']}")
    bad = [c for c in checks if not c["ok"]]
    md.append(f"- verification ({'ok' if not bad else 'FAILED'}): "
              + "; ".join(c["check"] + ("" if c["ok"] else " **BAD**") for c in checks))
    md.append("")
    with results_md.open("a") as f:
        f.write("\n".join(md) + "\n")
    print(f"appended to {results_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
