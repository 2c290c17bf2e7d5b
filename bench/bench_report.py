"""Benchmark of `harness report` against `allure generate` alone on the same results (a script, not a test).

    python bench/bench_report.py                  # 1,000 results, median of 3
    python bench/bench_report.py --results 200 --repeat 5

It runs the operator's command once on the embedded world (with --alluredir), records that run under
`<evidence>/runs/` when the harness has not, and multiplies its results (each result and its attachments
copied under new ids) to --results. Then, interleaved, it times:
- baseline: `node allure/cli.js generate` with the same single-file awesome configuration on those results;
- harness: `python -m harness.cli report --evidence-dir E` (Python start, the picture, the transition log,
  the board card, the results copied and scrubbed again, the same `allure generate`, the page cleaned).
It prints the medians and their ratio; the goal is within 1.5x. Allure must be installed already (`harness
report --setup`): installing it is not what is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.evidence.runs import finish_run, latest_runs, new_run_dir  # noqa: E402 - after the path set-up
from harness.report import allure_html, node_tools  # noqa: E402


def _record_run(scratch: Path) -> Path:
    """The embedded world's transition run, recorded; its evidence directory."""
    evidence, results = scratch / "evidence", scratch / "seed-results"
    command = [sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
               f"--basetemp={scratch / 'basetemp'}", "--evidence-dir", str(evidence), "--alluredir", str(results)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300)
    if "transition" not in latest_runs(evidence):
        run_dir = new_run_dir(evidence, "transition", "embedded")
        shutil.copy(evidence / "verdict-transition.json", run_dir / "verdict.json")
        shutil.copy(evidence / "evidence.jsonl", run_dir / "evidence.jsonl")
        shutil.copytree(results, run_dir / "allure-results")
        finish_run(run_dir)
    run = latest_runs(evidence)["transition"]
    if run.paper_account() is None:  # a picture to draw, as a run that read the gateway leaves
        facts = {"accounts": ["DU12****"], "all_paper": True, "host": "127.0.0.1", "port": 4002,
                 "observed_at": run.finished_at,
                 "open_orders": [{"order_id": n, "account": "DU12****", "action": "BUY", "quantity": 1,
                                  "symbol": "SPY", "order_type": "LMT", "limit_price": 1.0, "status": "Submitted"}
                                 for n in range(1, 6)], "positions": []}
        (run.path / "paper-account.json").write_text(json.dumps(facts), encoding="utf-8")
    return evidence


def _multiply(results: Path, wanted: int) -> int:
    """Copy the results (with their attachments, under new ids) until there are `wanted`; how many there are."""
    seeds = [(path, json.loads(path.read_text(encoding="utf-8"))) for path in sorted(results.glob("*-result.json"))]
    count = len(seeds)
    copy = 0
    while count < wanted:
        copy += 1
        for _, body in seeds:
            if count >= wanted:
                break
            clone = json.loads(json.dumps(body))
            clone["uuid"] = str(uuid.uuid4())
            clone["name"] = f"{body['name']} (copy {copy})"
            clone["historyId"] = clone["testCaseId"] = uuid.uuid4().hex
            for step in [clone, *clone.get("steps", [])]:
                for attachment in step.get("attachments", []):
                    source = results / attachment["source"]
                    new = f"{uuid.uuid4()}-attachment{source.suffix}"
                    shutil.copyfile(source, results / new)
                    attachment["source"] = new
            (results / f"{clone['uuid']}-result.json").write_text(json.dumps(clone), encoding="utf-8")
            count += 1
    return count


def _time(command: list[str], cwd: Path, environ: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr.strip()[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=1000, help="test results to report on (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="samples of each, interleaved (default 3)")
    args = parser.parse_args()

    node = node_tools.find_node()
    cli = node_tools.installed_allure(node_tools.allure_home(node_tools.tools_cache()))
    if cli is None:
        raise SystemExit("Allure is not installed yet: run `harness report --setup` first")
    with tempfile.TemporaryDirectory(prefix="bench-report-", ignore_cleanup_errors=True) as scratch_name:
        scratch = Path(scratch_name)
        evidence = _record_run(scratch)
        results = latest_runs(evidence)["transition"].allure_results()
        assert results is not None
        total = _multiply(results, args.results)
        config = scratch / "allurerc.json"
        config.write_text(json.dumps(allure_html.allure_config("baseline", scratch / "baseline-out")),
                          encoding="utf-8")
        baseline = [str(node.executable), str(cli), "generate", "--config", str(config), "--output",
                    str(scratch / "baseline-out"), str(results)]
        harness = [sys.executable, "-m", "harness.cli", "report", "--evidence-dir", str(evidence)]
        environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_") or k == "HARNESS_TOOLS_CACHE"}
        _time(harness, ROOT, environ)  # warm: file cache, bytecode
        samples: dict[str, list[float]] = {"allure generate": [], "harness report": []}
        for _ in range(args.repeat):
            samples["allure generate"].append(_time(baseline, scratch, node_tools.generate_environment()))
            samples["harness report"].append(_time(harness, ROOT, environ))
        html = evidence / "report" / "index.html"
        print(f"{total} results; {node.describe()}; Allure {node_tools.ALLURE_VERSION}; "
              f"index.html {html.stat().st_size / 1e6:.1f} MB")
        for name, values in samples.items():
            print(f"  {name:16} median {statistics.median(values):6.2f} s  ({', '.join(f'{v:.2f}' for v in values)})")
        ratio = statistics.median(samples["harness report"]) / statistics.median(samples["allure generate"])
        print(f"ratio harness report / allure generate: {ratio:.2f}x (goal: within 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
