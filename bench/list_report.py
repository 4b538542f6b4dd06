"""Turns bench/out/list-run/*.json (written by bench/list.sh) into a table on stdout,
bench/out/list-run/results.json, and a section appended to bench/RESULTS.md, with PASS/FAIL
against the targets of GitHub issue 3, item 8.

Usage: BENCH_META='{...}' python3 bench/list_report.py RAW_DIR RESULTS_MD
"""

import json
import os
import sys
from pathlib import Path

MB = 1_000_000  # as bench/report.py: MB = 10^6 bytes (the stricter reading of "50 MB")
# The wrk runs, in table order.
RUNS = ["ours-page1", "ours-deep", "pocketbase-page1-total", "pocketbase-page1-skiptotal",
        "pocketbase-deep-total", "pocketbase-deep-skiptotal"]
EXPORTS = ["ours-export-csv", "ours-export-ndjson"]


def load(out: Path, name: str):
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def derive_run(s: dict) -> dict:
    w = s["wrk"]
    secs = w["duration_us"] / 1e6
    wall = float(s.get("wrk_wall_s") or secs)
    return {
        "label": s["label"],
        "url": s["url"],
        "requests": w["requests"],
        "rps": w["requests"] / secs,
        "rps_2xx": w["c2xx"] / secs,
        "non_2xx": w["requests"] - w["c2xx"],
        "unexpected_bodies": w["unexpected"],
        "socket_errors": {k: w[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")},
        "p50_ms": w["p50_us"] / 1000,
        "p90_ms": w["p90_us"] / 1000,
        "p99_ms": w["p99_us"] / 1000,
        "p999_ms": w["p999_us"] / 1000,
        "max_ms": w["max_us"] / 1000,
        "mb_per_s": w["bytes"] / secs / MB,
        "server_cpu_util": s["server_cpu_s"] / wall,
        "wrk_cpu_util": s["wrk_cpu_s"] / wall,
        # CPU used on the whole machine by anything but the server and wrk (other users).
        "foreign_cpu_util": max(0.0, s["machine_busy_s"] - s["server_cpu_s"] - s["wrk_cpu_s"]) / wall,
        "rss_kb": s.get("rss_kb"),
        "loadavg_before": s.get("loadavg_before"),
        "loadavg_after": s.get("loadavg_after"),
    }


def derive_export(s: dict) -> dict:
    c = s["curl"]
    peak_kb = max(s["sampled"]["max_rss_kb"], s["hwm_kb"] if s["hwm_reset"] else 0)
    return {
        "label": s["label"],
        "format": s["format"],
        "http_code": c["http_code"],
        "records": s["records"],
        "seconds": c["seconds"],
        "records_per_s": s["records"] / c["seconds"],
        "mb_per_s": c["bytes"] / c["seconds"] / MB,
        "bytes": c["bytes"],
        "first_byte_s": c["ttfb_s"],
        "idle_rss_kb": s["idle_rss_kb"],
        "peak_rss_kb": peak_kb,
        "peak_source": "max(VmHWM after clear_refs, VmRSS every 50 ms)" if s["hwm_reset"]
        else "VmRSS every 50 ms (VmHWM could not be reset)",
        "rss_samples": s["sampled"]["samples"],
        "peak_minus_idle_kb": peak_kb - s["idle_rss_kb"],
        "server_cpu_s": s["server_cpu_s"],
        "curl_cpu_s": s["curl_cpu_s"],
        # CPU used on the whole machine by anything but the server and curl (other users).
        "foreign_cpu_util": max(0.0, s["machine_busy_s"] - s["server_cpu_s"] - s["curl_cpu_s"])
        / c["seconds"],
    }


def mb(kb) -> str:
    return f"{kb * 1024 / MB:.1f} MB"


def md_table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
    return "\n".join(lines)


def main() -> int:
    out, results_md = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads(os.environ["BENCH_META"])
    runs = {n: derive_run(s) for n in RUNS if (s := load(out, n))}
    exports = {n: derive_export(s) for n in EXPORTS if (s := load(out, n))}
    seed, walk, pb_seed = load(out, "ours-seed"), load(out, "ours-walk"), load(out, "pocketbase-seed")
    check = load(out, "ours-export-check")
    deep = meta["deep_page"]

    targets, ratios = [], {}
    o1, od = runs.get("ours-page1"), runs.get("ours-deep")
    if o1 and od:
        r = ratios["ours_deep_p99_over_page1_p99"] = od["p99_ms"] / o1["p99_ms"]
        targets.append({"target": f"deep page p99 <= 2x first page p99 (page {deep} vs page 1)",
                        "value": f"{od['p99_ms']:.2f} ms / {o1['p99_ms']:.2f} ms = {r:.2f}x",
                        "pass": r <= 2})
    for page, ours in (("page1", o1), ("deep", od)):
        total, skip = runs.get(f"pocketbase-{page}-total"), runs.get(f"pocketbase-{page}-skiptotal")
        if not (ours and total and skip):
            continue
        shown = "page 1" if page == "page1" else f"page {deep}"
        r_total = ratios[f"ours_over_pocketbase_{page}_total"] = ours["rps"] / total["rps"]
        r_skip = ratios[f"ours_over_pocketbase_{page}_skiptotal"] = ours["rps"] / skip["rps"]
        # The stricter comparison: against PocketBase's faster form.
        faster, r = ("skipTotal=1", r_skip) if skip["rps"] >= total["rps"] else ("counting totals", r_total)
        targets.append({"target": f">= 5x PocketBase list throughput, {shown} vs {shown} "
                                  f"(vs its faster form, {faster})",
                        "value": f"{r:.2f}x (vs counting totals: {r_total:.2f}x; vs skipTotal=1: "
                                 f"{r_skip:.2f}x)",
                        "pass": r >= 5})
    for name, e in exports.items():
        targets.append({"target": f"export {e['format']} >= 200,000 records/s",
                        "value": f"{e['records_per_s']:,.0f} records/s", "pass": e["records_per_s"] >= 200_000})
        grow = e["peak_minus_idle_kb"] * 1024
        targets.append({"target": f"export {e['format']} peak RSS <= idle + 50 MB (MB = 10^6 bytes)",
                        "value": f"peak {mb(e['peak_rss_kb'])} - idle {mb(e['idle_rss_kb'])} = "
                                 f"{grow / MB:+.1f} MB", "pass": grow <= 50 * MB})

    checks = []
    if seed:
        w = seed["wrk"]
        checks.append(f"ours seeded: {seed['records']} records counted by GET /v1/apps after "
                      f"{w['signups_2xx']} sign-ups answered 2xx ({w['signups_not_2xx']} not) in "
                      f"{seed['seconds']:.1f} s ({seed['records'] / seed['seconds']:,.0f}/s through "
                      f"POST /v1/users)")
    if pb_seed:
        checks.append(f"PocketBase seeded: {pb_seed['seed']['rows']} rows inserted into data.db in "
                      f"{pb_seed['seed']['seconds']:.1f} s; totalItems checked after its restart")
    if walk:
        checks.append(f"cursor of page {deep}: {walk['walk']['pages_walked']} pages walked by "
                      f"nextCursor in {walk['walk']['seconds']:.1f} s")
    if check:
        checks.append(f"CSV export: {check['csv_lines']} lines (expected {check['expected']}: "
                      f"header + one per record)")
    for name, d in runs.items():
        if d["non_2xx"] or d["unexpected_bodies"] or any(d["socket_errors"].values()):
            checks.append(f"WARNING {d['label']}: {d['non_2xx']} non-2xx, {d['unexpected_bodies']} "
                          f"unexpected bodies, socket errors {d['socket_errors']}")
    disturbed = [d["label"] for d in list(runs.values()) + list(exports.values())
                 if d["foreign_cpu_util"] > 0.2]

    result = {"meta": meta, "runs": runs, "exports": exports, "ratios": ratios, "targets": targets,
              "checks": checks}
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")

    head = ["run", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "MB/s", "non-2xx", "server CPU",
            "wrk CPU", "other CPU"]
    rows = [[d["label"], f"{d['rps']:.0f}", f"{d['p50_ms']:.2f}", f"{d['p99_ms']:.2f}",
             f"{d['p999_ms']:.2f}", f"{d['mb_per_s']:.1f}", d["non_2xx"] + d["unexpected_bodies"],
             f"{100 * d['server_cpu_util']:.0f}%", f"{100 * d['wrk_cpu_util']:.0f}%",
             f"{100 * d['foreign_cpu_util']:.0f}%"] for d in runs.values()]
    ehead = ["export", "seconds", "records/s", "MB/s", "first byte s", "idle RSS", "peak RSS",
             "peak - idle", "server CPU s", "other CPU"]
    erows = [[f"{e['format']} ({e['records']:,} records, {e['bytes'] / MB:.0f} MB)", f"{e['seconds']:.2f}",
              f"{e['records_per_s']:,.0f}", f"{e['mb_per_s']:.1f}", f"{e['first_byte_s']:.3f}",
              mb(e["idle_rss_kb"]), mb(e["peak_rss_kb"]), f"{e['peak_minus_idle_kb'] * 1024 / MB:+.1f} MB",
              f"{e['server_cpu_s']:.1f}", f"{100 * e['foreign_cpu_util']:.0f}%"] for e in exports.values()]

    for header, body in ((head, rows), (ehead, erows)):
        if not body:
            continue
        widths = [max(len(str(r[i])) for r in [header] + body) for i in range(len(header))]
        print()
        for r in [header] + body:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print()
    for t in targets:
        print(f"{'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['value']}")
    for c in checks:
        print(c)
    if disturbed:
        print("WARNING: other processes used more than 0.2 CPU during: " + "; ".join(disturbed))
    print(f"load average: {meta['loadavg_start']} at start, {meta['loadavg_end']} at end; "
          f"{meta['elapsed_s']} s in all; results in {out / 'results.json'}")

    if os.environ.get("BENCH_NO_RESULTS_MD") == "1":
        return 0
    md = [f"\n## Listing and export, {meta['date']}\n",
          f"- command: `{meta['command']}`",
          f"- commit: {meta['commit']}",
          f"- machine: {meta['nproc']} CPUs ({meta['cpu_model']}), {meta['memory']}, Linux "
          f"{meta['kernel']}; wrk {meta['wrk']}, curl {meta['curl']}",
          f"- data: an app of {meta['records']:,} users (bench/schema.json) on our default SQLite "
          f"store, seeded through POST /v1/users; PocketBase's collection "
          f"(bench/pocketbase-collection.json) with the same records inserted into its data.db",
          f"- load: pages of {meta['page_size']}; {meta['duration_s']} s measured after "
          f"{meta['warmup_s']} s warm-up, {meta['connections']} connections, 1 wrk thread; server on "
          f"CPU {meta['server_cpu']}, wrk and curl on CPU {meta['client_cpu']}"
          + (f", nice {meta['nice']}" if meta.get("nice") else ""),
          f"- ours: session cookie of an admin; page {deep} by the cursor found walking nextCursor. "
          f"PocketBase: superuser token; `page=N&perPage={meta['page_size']}` as its SDK's getList "
          f"sends it (counting totalItems), and with `skipTotal=1`",
          f"- load average: {meta['loadavg_start']} at start, {meta['loadavg_end']} at end (\"other "
          f"CPU\" = CPU used by anything but the server and wrk, in cores)"]
    if disturbed:
        md.append("- **disturbed**: other processes used more than 0.2 CPU during: " + "; ".join(disturbed))
    md += ["", md_table(head, rows), ""]
    if erows:
        md += [md_table(ehead, erows), "",
               "Peak RSS: the larger of VmHWM (reset with `clear_refs` just before the export) and "
               "VmRSS sampled every 50 ms; idle RSS is VmRSS just before the export.", ""]
    if ratios:
        md.append("Ratios: " + "; ".join(f"{k} = {v:.2f}" for k, v in ratios.items()) + "\n")
    md += [f"- **{'PASS' if t['pass'] else 'FAIL'}** {t['target']}: {t['value']}" for t in targets]
    md += [f"- {c}" for c in checks]
    md.append("")
    with results_md.open("a") as f:
        f.write("\n".join(md) + "\n")
    print(f"appended to {results_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
