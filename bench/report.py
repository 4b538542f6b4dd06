"""Turns bench/out/<system>.json (written by bench/run.sh) into a table on stdout,
bench/out/results.json, and a section appended to bench/RESULTS.md.

Usage: BENCH_META='{...}' python3 bench/report.py OUT_DIR RESULTS_MD
"""

import json
import os
import sys
from pathlib import Path

ORDER = ["ours", "pocketbase", "echo", "ours-mongodb"]
MB = 1_000_000  # targets are in MB = 10^6 bytes (the stricter reading of "30 MB")


def load(out: Path) -> dict:
    systems = {}
    for name in ORDER:
        path = out / f"{name}.json"
        if path.exists():
            systems[name] = json.loads(path.read_text())
    return systems


def derive(s: dict) -> dict:
    """Per-system figures from the raw record."""
    if s.get("status") != "ok":
        return {"label": s.get("label"), "status": s.get("status"), "error": s.get("error")}
    w = s["wrk"]
    secs = w["duration_us"] / 1e6
    wall = float(s.get("wrk_wall_s") or secs)
    d = {
        "label": s["label"],
        "status": "ok",
        "config": s.get("config"),
        "requests": w["requests"],
        "duration_s": round(secs, 3),
        "rps_all": w["requests"] / secs,
        "rps_2xx": w["c2xx"] / secs,
        "responses": {k: w[k] for k in ("c2xx", "c3xx", "c4xx", "c5xx", "cother")},
        "socket_errors": {k: w[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")},
        "new_sent": w["new_sent"],
        "repeat_sent": w["repeat_sent"],
        "p50_ms": w["p50_us"] / 1000,
        "p90_ms": w["p90_us"] / 1000,
        "p99_ms": w["p99_us"] / 1000,
        "p999_ms": w["p999_us"] / 1000,
        "max_ms": w["max_us"] / 1000,
        "idle_rss_kb": s.get("idle_rss_kb"),
        "peak_rss_kb": s.get("peak_rss_kb"),
        "server_cpu_util": s["server_cpu_s"] / wall,
        "wrk_cpu_util": s["wrk_cpu_s"] / wall,
        # CPU time used on the whole machine by anything but the server and wrk (other users).
        "foreign_cpu_util": max(0.0, s["machine_busy_s"] - s["server_cpu_s"] - s["wrk_cpu_s"]) / wall,
        "server_core_busy": s["server_cpu_busy_s"] / wall,
        "client_core_busy": s["client_cpu_busy_s"] / wall,
        # CPU seconds per server thread name during the measured run.
        "threads_cpu_s": s.get("threads_cpu_s"),
        "loadavg_before": s.get("loadavg_before"),
        "loadavg_after": s.get("loadavg_after"),
    }
    if "rows" in s:
        d["rows"] = s["rows"]
    warm = s.get("warmup")
    if warm:
        d["warmup"] = {"requests": warm["requests"], "c2xx": warm["c2xx"], "c4xx": warm["c4xx"],
                       "c5xx": warm["c5xx"], "new_sent": warm["new_sent"]}
    return d


def verify_ours(d: dict, connections: int) -> dict:
    """Rows stored vs. distinct new e-mails sent (warm-up + measured + 1 smoke request)."""
    warm = d.get("warmup") or {"new_sent": 0, "c5xx": 0, "c4xx": 0}
    runs = 2 if d.get("warmup") else 1
    new_total = d["new_sent"] + warm["new_sent"] + 1
    # Requests still in flight when wrk stops (at most one per connection and run) may or may
    # not have been stored.
    low = new_total - runs * connections
    five = d["responses"]["c5xx"] + warm["c5xx"]
    four = d["responses"]["c4xx"] + warm["c4xx"]
    rows = d.get("rows", -1)
    ok = rows > 0 and five == 0 and four == 0 and low <= rows <= new_total
    return {"rows": rows, "new_emails_sent": new_total, "expected_range": [low, new_total],
            "responses_5xx": five, "responses_4xx": four, "ok": ok}


def fmt_mb(kb):
    return f"{kb * 1024 / MB:.1f} MB" if kb else "n/a"


def main() -> int:
    out, results_md = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads(os.environ["BENCH_META"])
    raw = load(out)
    systems = {name: derive(s) for name, s in raw.items()}
    ours, pb, echo = (systems.get(k) for k in ("ours", "pocketbase", "echo"))
    okd = lambda d: d is not None and d.get("status") == "ok"  # noqa: E731

    ratios, targets = {}, []
    if okd(ours) and okd(pb):
        ratios["ours_over_pocketbase_rps_all"] = ours["rps_all"] / pb["rps_all"]
        ratios["ours_over_pocketbase_rps_2xx"] = ours["rps_2xx"] / pb["rps_2xx"] if pb["rps_2xx"] else None
        ratios["pocketbase_p99_over_ours_p99"] = pb["p99_ms"] / ours["p99_ms"]
        r = ratios["ours_over_pocketbase_rps_all"]
        targets.append({"target": ">= 5x PocketBase throughput (vs PocketBase all responses, the stricter)",
                        "value": f"{r:.2f}x", "pass": r >= 5})
        r = ratios["pocketbase_p99_over_ours_p99"]
        targets.append({"target": "p99 <= 1/5 of PocketBase's", "value": f"PocketBase p99 / ours = {r:.2f}",
                        "pass": r >= 5})
    if okd(ours) and okd(echo):
        r = ratios["ours_over_echo_rps"] = ours["rps_all"] / echo["rps_all"]
        targets.append({"target": ">= 50% of the echo ceiling", "value": f"{100 * r:.1f}%", "pass": r >= 0.5})
    if okd(ours):
        idle = ours["idle_rss_kb"] * 1024
        targets.append({"target": "idle RSS <= 30 MB", "value": fmt_mb(ours["idle_rss_kb"]), "pass": idle <= 30 * MB})
        ours["verification"] = verify_ours(ours, meta["connections"])
    if okd(systems.get("ours-mongodb")):
        systems["ours-mongodb"]["verification"] = verify_ours(systems["ours-mongodb"], meta["connections"])

    result = {"meta": meta, "systems": systems, "ratios": ratios, "targets": targets}
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")

    # ---- table -------------------------------------------------------------------------------
    head = ["system", "req/s all", "req/s 2xx", "p50 ms", "p99 ms", "peak RSS", "idle RSS",
            "non-2xx", "server CPU", "wrk CPU", "other CPU"]
    rows = []
    for name in ORDER:
        d = systems.get(name)
        if d is None:
            continue
        if d["status"] != "ok":
            rows.append([d["label"], "FAILED: " + (d.get("error") or "")[:120]] + [""] * (len(head) - 2))
            continue
        non2xx = d["requests"] - d["responses"]["c2xx"]
        rows.append([d["label"], f"{d['rps_all']:.0f}", f"{d['rps_2xx']:.0f}", f"{d['p50_ms']:.2f}",
                     f"{d['p99_ms']:.2f}", fmt_mb(d["peak_rss_kb"]), fmt_mb(d["idle_rss_kb"]),
                     f"{non2xx} ({d['responses']['c4xx']} 4xx, {d['responses']['c5xx']} 5xx)",
                     f"{100 * d['server_cpu_util']:.0f}%", f"{100 * d['wrk_cpu_util']:.0f}%",
                     f"{100 * d['foreign_cpu_util']:.0f}%"])

    def md_table(header, body):
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
        return "\n".join(lines)

    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    print()
    for r in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print()
    if ratios:
        for k, v in ratios.items():
            print(f"{k}: {v:.2f}" if v is not None else f"{k}: n/a")
    for t in targets:
        print(f"{'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['value']}")
    if okd(ours):
        v = ours["verification"]
        print(f"{'OK  ' if v['ok'] else 'BAD '}  verification: {v['rows']} rows stored, expected "
              f"{v['expected_range'][0]}..{v['expected_range'][1]} (new e-mails sent), "
              f"{v['responses_5xx']} 5xx, {v['responses_4xx']} 4xx")
    for name in ORDER:
        d = systems.get(name)
        if okd(d):
            print(f"{d['label']}: server threads CPU s {d.get('threads_cpu_s')}")
    disturbed = [d["label"] for d in systems.values() if okd(d) and d["foreign_cpu_util"] > 0.2]
    if disturbed:
        print("WARNING: other processes used more than 0.2 CPU during: " + "; ".join(disturbed)
              + " (the figures are disturbed)")
    print(f"load average: {meta['loadavg_start']} at start, {meta['loadavg_end']} at end; "
          f"results in {out / 'results.json'}")

    # ---- RESULTS.md --------------------------------------------------------------------------
    if os.environ.get("BENCH_NO_RESULTS_MD") == "1":
        return 0
    md = []
    if not results_md.exists():
        md.append("# Benchmark results\n\nAppended by `bash bench/run.sh`, newest last. Each server runs "
                  "alone pinned to one CPU, wrk (80% new e-mails, 20% repeats) pinned to the other; "
                  "see the script's header.\n")
    md.append(f"\n## {meta['date']}\n")
    md.append(f"- command: `{meta['command']}`")
    md.append(f"- commit: {meta['commit']}")
    md.append(f"- machine: {meta['nproc']} CPUs ({meta['cpu_model']}), {meta['memory']}, "
              f"Linux {meta['kernel']}; wrk {meta['wrk']}")
    md.append(f"- load: {meta['duration_s']} s measured after {meta['warmup_s']} s warm-up, "
              f"{meta['connections']} connections, {meta['wrk_threads']} wrk thread(s); server on CPU "
              f"{meta['server_cpu']}, wrk on CPU {meta['client_cpu']}"
              + (f", nice {meta['nice']}" if meta.get("nice") else ""))
    md.append(f"- load average: {meta['loadavg_start']} at start, {meta['loadavg_end']} at end "
              "(\"other CPU\" = CPU time used by anything but the server and wrk, in cores)")
    for name in ORDER:
        d = systems.get(name)
        if d and d["status"] == "ok" and d.get("config"):
            md.append(f"- {d['label']}: {d['config']}")
    disturbed = [d["label"] for d in systems.values() if okd(d) and d["foreign_cpu_util"] > 0.2]
    if disturbed:
        md.append("- **disturbed**: other processes used more than 0.2 CPU during: " + "; ".join(disturbed))
    md.append("")
    md.append(md_table(head, rows))
    md.append("")
    if okd(pb):
        md.append(f"PocketBase rejects a repeated e-mail (400, unique index) where we upsert: its "
                  f"{pb['responses']['c4xx']} 4xx are the repeats; \"req/s all\" counts them, "
                  f"\"req/s 2xx\" does not. Latencies are over all responses.\n")
    if ratios:
        md.append("Ratios: " + "; ".join(f"{k} = {v:.2f}" for k, v in ratios.items() if v is not None) + "\n")
    for t in targets:
        md.append(f"- **{'PASS' if t['pass'] else 'FAIL'}** {t['target']}: {t['value']}")
    if okd(ours):
        v = ours["verification"]
        md.append(f"- verification ({'ok' if v['ok'] else 'FAILED'}): {v['rows']} rows stored, "
                  f"{v['expected_range'][0]}..{v['expected_range'][1]} expected; "
                  f"{v['responses_5xx']} 5xx, {v['responses_4xx']} 4xx")
    md.append("")
    with results_md.open("a") as f:
        f.write("\n".join(md) + "\n")
    print(f"appended to {results_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
