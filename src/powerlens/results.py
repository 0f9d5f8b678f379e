"""Results tables generated from the DVC metrics files, so that no document carries model or
segmentation numbers typed by hand.

- `read_metrics(folder)` reads `train_<task>.json` and `segment.json` from a metrics folder
  (`metrics/` after `dvc repro`), or `<task>/metrics.json` from a models folder (what
  `powerlens train TASK --features D/features` writes to `D/models/`).
- `results_markdown(metrics, source)` renders them as markdown; it is pure: the caller says
  where the numbers came from (`source`).
- `write_results(metrics_dir, out)` writes the file with the git commit and the date of the
  metrics; `powerlens results [--metrics DIR] [--out FILE]` calls it.
"""

from __future__ import annotations

import json
import math
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from powerlens.rules import TASKS

SEGMENT = "segment"
TRAIN_PREFIX = "train_"
BASELINE_FAMILY = "logistic"
DASH = "–"


def read_metrics(metrics_dir: Path) -> dict[str, dict]:
    """The metrics files a results page shows, by stem: `train_<task>` and `segment`.

    A models folder (`<task>/metrics.json`) is read as `train_<task>`."""
    folder = Path(metrics_dir)
    if not folder.is_dir():
        from powerlens.errors import MissingInput

        raise MissingInput(f"no metrics folder at {folder}: run `uv run dvc repro` first, or pass --metrics DIR")
    found: dict[str, dict] = {}
    for path in sorted(folder.glob(f"{TRAIN_PREFIX}*.json")):
        found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(folder.glob("*/metrics.json")):
        found.setdefault(f"{TRAIN_PREFIX}{path.parent.name}", json.loads(path.read_text(encoding="utf-8")))
    if (folder / f"{SEGMENT}.json").exists():
        found[SEGMENT] = json.loads((folder / f"{SEGMENT}.json").read_text(encoding="utf-8"))
    if not found:
        from powerlens.errors import MissingInput

        raise MissingInput(f"no train_<task>.json, <task>/metrics.json or segment.json in {folder}")
    return found


def _task_order(metrics: dict[str, dict]) -> list[str]:
    tasks = [k[len(TRAIN_PREFIX):] for k in metrics if k.startswith(TRAIN_PREFIX)]
    known = [t for t in TASKS if t in tasks]
    return known + sorted(t for t in tasks if t not in TASKS)


def cell(value: Any) -> str:
    """A table cell: text with `|` escaped (the only character markdown tables need escaped)."""
    return str(value).replace("|", "\\|")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def num(value: Any, digits: int = 3) -> str:
    return DASH if _missing(value) else f"{float(value):.{digits}f}"


def signed(value: Any, digits: int = 3) -> str:
    return DASH if _missing(value) else f"{float(value):+.{digits}f}"


def share(value: Any) -> str:
    return DASH if _missing(value) else f"{100 * float(value):.1f}%"


def count(value: Any) -> str:
    return DASH if _missing(value) else f"{int(round(float(value))):,}"


def lead_interval(metrics: dict) -> str:
    """A family's lead over logistic regression and its 90% interval: `+0.038 (+0.010 to +0.070)`;
    the baseline itself, or a family without a lead, gets a dash."""
    lead = metrics.get("lead_vs_logistic")
    if _missing(lead):
        return DASH
    low, high = metrics.get("lead_vs_logistic_low"), metrics.get("lead_vs_logistic_high")
    if _missing(low) or _missing(high):
        return signed(lead)
    return f"{signed(lead)} ({signed(low)} to {signed(high)})"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def task_section(task: str, m: dict) -> list[str]:
    """One task: a table of its families and the lines saying what the run decided."""
    lines = [f"## {task}", ""]
    if m.get("skipped"):
        return lines + [f"Not trained: {m['skipped']}", ""]
    primary = m.get("primary_metric", "roc_auc")
    best = m.get("best_family")
    lines += [
        _row("family", "ROC-AUC", "PR-AUC", "Brier", "lift at 10%",
             f"lead over logistic ({cell(primary)}, 90% interval)", "fit s"),
        _row("---", "---:", "---:", "---:", "---:", "---", "---:"),
    ]
    for family, fm in (m.get("families") or {}).items():
        name = f"**{cell(family)}** (best)" if family == best else cell(family)
        lead = "baseline" if family == BASELINE_FAMILY else lead_interval(fm)
        lines.append(_row(name, num(fm.get("roc_auc")), num(fm.get("pr_auc")), num(fm.get("brier"), 4),
                          num(fm.get("lift_at_10pct"), 2), lead, num(fm.get("fit_seconds"), 1)))
    lines.append("")
    champion = m.get("champion_family")
    calibration = f", calibration: {m['calibration']}" if m.get("calibration") else ""
    version = f", registered as version {m['registered_version']}" if m.get("registered_version") is not None else ""
    role = "champion" if m.get("promoted") else "challenger"
    lines.append(f"- Champion: {champion or DASH}. This run's best family: {best or DASH}{calibration}{version} "
                 f"({role if best else DASH}).")
    if m.get("decision"):
        before = m.get("champion_metric_before")
        was = f" (the champion's {primary} on these rows: {num(before)})" if not _missing(before) else ""
        lines.append(f"- Decision: {m['decision']}{was}.")
    if m.get("classes"):
        classes = ", ".join(f"{cell(c)} {count(n)}" for c, n in m["classes"].items())
        lines.append(f"- Classes: {classes} (ROC-AUC and PR-AUC: macro one-vs-rest).")
    else:
        lines.append(f"- Positives at validation: {_positives(m)}.")
    lines.append(f"- Validation: {_validation(m)}.")
    lines.append("")
    return lines


def _positives(m: dict) -> str:
    rows = m.get("n_valid")
    positives = m.get("positives_valid")
    if _missing(positives):  # multi-class or older files: the families say it
        first = next(iter((m.get("families") or {}).values()), {})
        positives, rows = first.get("positives"), first.get("n", rows)
    return f"{count(positives)} of {count(rows)} rows" if not _missing(rows) else count(positives)


def _validation(m: dict) -> str:
    scheme = m.get("validation") or DASH
    train, valid = m.get("train_cutoffs"), m.get("valid_cutoff")
    if m.get("cv_folds"):
        return f"{scheme}, {m['cv_folds']} folds (metrics: the mean over the folds)"
    if train and valid and valid not in train:
        return f"{scheme} (trained on cut-offs {', '.join(map(str, train))}; validated on {valid})"
    return str(scheme)


def segment_section(s: dict) -> list[str]:
    """Value and credit tiers, the Pareto share, big and latent-big customers, and the load-shape
    clustering chosen for each family with its validity and stability."""
    basis = s.get("pareto_basis") or "revenue"
    lines = ["## Segmentation", "",
             f"- Open accounts segmented: {count(s.get('customers'))}.",
             f"- Pareto: the top 20% of customers by {basis} carry {share(s.get('pareto_top20_share'))} of it.",
             f"- Big customers: {count(s.get('big_customers'))}, with {share(s.get('big_revenue_share'))} of revenue; "
             f"latent-big customers flagged: {count(s.get('latent_big_customers'))}."]
    tiers, grades = s.get("tiers") or {}, s.get("credit_grades") or {}
    if tiers:
        method = (s.get("value_weights") or {}).get("method")
        how = f" ({method} value weights)" if method else ""
        lines.append("- Value tiers" + how + ": " + ", ".join(f"{t} {count(tiers[t])}" for t in _ordered(tiers)) + ".")
    if grades:
        lines.append("- Credit grades: " + ", ".join(f"{g} {count(grades[g])}" for g in _ordered(grades)) + ".")
    families = s.get("load_shape_families") or {}
    if families:
        lines += ["", "Load-shape clustering chosen per family:", "",
                  _row("family", "customers", "algorithm", "k", "silhouette", "Davies-Bouldin", "CDI", "MIA",
                       "stability ARI", "stable"),
                  _row("---", "---:", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---")]
        for family, c in families.items():
            stable = DASH if c.get("stable") is None else ("yes" if c["stable"] else "no (below min_stability)")
            lines.append(_row(cell(family), count(c.get("customers")), cell(c.get("algorithm", DASH)),
                              count(c.get("k")), num(c.get("silhouette")), num(c.get("davies_bouldin")),
                              num(c.get("cdi")), num(c.get("mia")), num(c.get("stability_ari")), stable))
    lines.append("")
    return lines


def _ordered(counts: dict) -> list[str]:
    from powerlens.rules import CREDIT_GRADES, VALUE_TIERS

    known = [k for k in (*VALUE_TIERS, *CREDIT_GRADES) if k in counts]
    return known + sorted(k for k in counts if k not in known)


def results_markdown(metrics: dict[str, dict], source: str, title: str = "Results") -> str:
    """The results page: a header naming `source`, one table per task, then segmentation."""
    lines = [f"# {title}", "",
             "<!-- generated by `powerlens results`: do not edit by hand -->", "",
             f"Generated by `uv run powerlens results` from the metrics files of {source}.",
             "For the pipeline's metrics, regenerate after `make run` (or `uv run dvc repro`).",
             "What the columns mean, and what raised or limits these numbers: [models.md](models.md),",
             "[segmentation.md](segmentation.md).", ""]
    tasks = _task_order(metrics)
    if tasks:
        lines += ["Risk models: every family on the same validation rows. The lead is over logistic regression on "
                  "the primary metric, with a 90% paired bootstrap interval over the validation customers. Brier is "
                  "of each family's scores before calibration (the best family is then calibrated, as its line "
                  "says).", ""]
        for task in tasks:
            lines += task_section(task, metrics[f"{TRAIN_PREFIX}{task}"])
    if SEGMENT in metrics:
        lines += segment_section(metrics[SEGMENT])
    return "\n".join(lines).rstrip("\n") + "\n"


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def describe_source(metrics_dir: Path) -> str:
    """Which git commit and date the metrics came from (the repository holding the folder), and
    whether tracked files other than dvc.lock had uncommitted changes when this was written."""
    folder = Path(metrics_dir).resolve()
    files = list(folder.glob("*.json")) + list(folder.glob("*/metrics.json"))
    written = max((p.stat().st_mtime for p in files), default=None)
    when = (f"metrics written {datetime.fromtimestamp(written, UTC):%Y-%m-%d %H:%M} UTC"
            if written is not None else "no metrics files")
    commit = _git(folder, "rev-parse", "--short", "HEAD")
    if not commit:  # e.g. D/models of a real source: say which code this command runs
        code = _git(Path(__file__).resolve().parent, "rev-parse", "--short", "HEAD")
        at = f"; powerlens here is at git commit `{code}`" if code else ""
        return f"`{folder}` ({when}; not in a git repository{at})"
    date = _git(folder, "show", "-s", "--format=%cs", "HEAD") or "?"
    status = _git(folder, "status", "--porcelain", "--untracked-files=no") or ""
    changed = [line for line in status.splitlines() if line.split()[-1] != "dvc.lock"]  # repro rewrites it
    dirty = ", with uncommitted changes to tracked files" if changed else ""
    return f"git commit `{commit}` (committed {date}{dirty}; {when})"


def write_results(metrics_dir: Path, out: Path = Path("docs/results.md"), source: str | None = None,
                  title: str = "Results") -> Path:
    """Render the metrics in `metrics_dir` into `out` (markdown) and return its path. `source`
    says where they came from (default: `describe_source(metrics_dir)`)."""
    text = results_markdown(read_metrics(metrics_dir), source or describe_source(metrics_dir), title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
