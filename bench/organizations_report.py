"""Turns bench/out/organizations-run/*.json (written by bench/organizations.sh) into a table on
stdout, bench/out/organizations-run/results.json, and a section appended to bench/RESULTS.md,
with PASS/FAIL against the target of GitHub issue 14, item 8 (deep page p99 <= 2x page 1 p99).

Usage: BENCH_META='{...}' python3 bench/organizations_report.py RAW_DIR RESULTS_MD
"""

import json
import os
import sys
from pathlib import Path

MB = 1_000_000
# The wrk runs, in table order.
RUNS = ["ours-page1", "ours-deep"]


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
        "non_200": w["requests"] - w["c200"],
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
        # Of which the hypervisor gave to other virtual machines (steal).
        "steal_cpu_util": s.get("steal_s", 0.0) / wall,
        "rss_kb": s.get("rss_kb"),
        "loadavg_before": s.get("loadavg_before"),
        "loadavg_after": s.get("loadavg_after"),
    }


def md_table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
    return "\n".join(lines)


def main() -> int:
    out, results_md = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads(os.environ["BENCH_META"])
    runs = {n: derive_run(s) for n in RUNS if (s := load(out, n))}
    seed, walk, pages = load(out, "ours-seed"), load(out, "ours-walk"), load(out, "ours-pages")

    targets, ratios, figures = [], {}, {}
    p1, deep = runs.get("ours-page1"), runs.get("ours-deep")
    if p1 and deep:
        r = ratios["deep_p99_over_page1_p99"] = deep["p99_ms"] / p1["p99_ms"]
        ratios["deep_p50_over_page1_p50"] = deep["p50_ms"] / p1["p50_ms"]
        ratios["deep_rps_over_page1_rps"] = deep["rps"] / p1["rps"]
        targets.append({"target": f"deep page p99 <= 2x page 1 p99 (members "
                                  f"{meta['deep_after'] + 1:,}.. of {meta['members']:,} vs page 1)",
                        "value": f"{deep['p99_ms']:.2f} ms / {p1['p99_ms']:.2f} ms = {r:.3f}x",
                        "pass": r <= 2})

    if runs:
        bad = {d["label"]: d["non_200"] + d["unexpected_bodies"] + sum(d["socket_errors"].values())
               for d in runs.values()}
        targets.append({"target": "every answer 200 with members (wrk, both pages)",
                        "value": ", ".join(f"{k}: {v} not" for k, v in bad.items()),
                        "pass": not any(bad.values())})

    checks = []
    if seed:
        w = seed["wrk"]
        rate = seed["members"] / seed["seconds"]
        figures["seed_members_per_s"] = rate
        checks.append(f"seeded: {w['created_201']:,} POST /v1/users answered 201 "
                      f"({w['creations_failed']} not) in {seed['seconds']:.1f} s = {rate:,.0f} "
                      f"members/s ({seed['seed_connections']} connections, API key; creation "
                      f"p50 {w['p50_us'] / 1000:.2f} ms, p99 {w['p99_us'] / 1000:.2f} ms)")
    if walk:
        wk = walk["walk"]
        checks.append(f"counted: {wk['members']:,} members listed by walking {wk['pages_walked']} "
                      f"pages of {wk['page_limit']} (ids unique and ascending) in "
                      f"{wk['seconds']:.1f} s; deep cursor = base64url(id of member "
                      f"{wk['after']:,})"
                      + (", equal to the walk's next_cursor there"
                         if wk.get("cursor_checked_against_next_cursor") else ""))
    if pages:
        checks.append(f"pages (checked once with curl): page 1 and the deep page hold "
                      f"{pages['page_size']} members each, page 1 from member 1, the deep page from member "
                      f"{pages['deep_after'] + 1:,} ({pages['deep_first_id']}) of the walk")
    for d in runs.values():
        if d["non_200"] or d["unexpected_bodies"] or any(d["socket_errors"].values()):
            checks.append(f"WARNING {d['label']}: {d['non_200']} answers not 200, "
                          f"{d['unexpected_bodies']} unexpected bodies, socket errors "
                          f"{d['socket_errors']}")
        else:
            checks.append(f"{d['label']}: all {d['requests']:,} answers 200 with members")
    disturbed = [d["label"] for d in runs.values() if d["foreign_cpu_util"] > 0.2]

    result = {"meta": meta, "runs": runs, "ratios": ratios, "figures": figures,
              "targets": targets, "checks": checks}
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")

    head = ["run", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "MB/s", "not 200",
            "server CPU", "wrk CPU", "other CPU", "of which steal"]
    rows = [[d["label"], f"{d['rps']:.0f}", f"{d['p50_ms']:.2f}", f"{d['p90_ms']:.2f}",
             f"{d['p99_ms']:.2f}", f"{d['p999_ms']:.2f}", f"{d['mb_per_s']:.1f}",
             d["non_200"] + d["unexpected_bodies"], f"{100 * d['server_cpu_util']:.0f}%",
             f"{100 * d['wrk_cpu_util']:.0f}%", f"{100 * d['foreign_cpu_util']:.0f}%",
             f"{100 * d['steal_cpu_util']:.0f}%"]
            for d in runs.values()]

    if rows:
        widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
        print()
        for r in [head] + rows:
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
    md = [f"\n## Organization member list, {meta['date']}\n",
          f"- command: `{meta['command']}`",
          f"- commit: {meta['commit']}",
          f"- machine: {meta['nproc']} CPUs ({meta['cpu_model']}), {meta['memory']}, Linux "
          f"{meta['kernel']}; wrk {meta['wrk']}",
          f"- data: one organization of {meta['members']:,} members (admin-created accounts, role "
          f"member) in an app on our default SQLite store, seeded through POST /v1/users with an "
          f"API key (role tenant_admin)",
          f"- load: `GET /v1/organizations/{{org}}/users?limit={meta['page_size']}` with "
          f"`X-API-Key`, page 1 and the page after member {meta['deep_after']:,} (its cursor); "
          f"{meta['duration_s']} s measured after {meta['warmup_s']} s warm-up, "
          f"{meta['connections']} connections, 1 wrk thread; server on CPU {meta['server_cpu']}, "
          f"wrk on CPU {meta['client_cpu']}"
          + (f", nice {meta['nice']}" if meta.get("nice") else ""),
          f"- load average: {meta['loadavg_start']} at start, {meta['loadavg_end']} at end (\"other "
          f"CPU\" = CPU used by anything but the server and wrk, in cores, including \"steal\": "
          f"time the hypervisor gave our CPUs to other virtual machines)"]
    if disturbed:
        md.append("- **disturbed**: other processes used more than 0.2 CPU during: " + "; ".join(disturbed))
    md += ["", md_table(head, rows), ""]
    if ratios:
        md.append("Ratios: " + "; ".join(f"{k} = {v:.3f}" for k, v in ratios.items()) + "\n")
    md += [f"- **{'PASS' if t['pass'] else 'FAIL'}** {t['target']}: {t['value']}" for t in targets]
    md += [f"- {c}" for c in checks]
    md.append("")
    with results_md.open("a") as f:
        f.write("\n".join(md) + "\n")
    print(f"appended to {results_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
