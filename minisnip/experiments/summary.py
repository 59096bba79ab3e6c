"""The summary of an experiment, built from its records alone: ``summary.json`` (the data),
``summary.md`` (the table, with the settings) and ``summary.png`` (the figure).

Only records whose key is one of the planned runs' are read, so a table never mixes settings;
the summary says which runs are missing, which settings differ from the protocol (and whether
the experiment or the command line chose them), the command that made the summary and the
commands that made the runs. Nothing here runs anything: ``minisnip experiment NAME
--summarize`` calls :func:`summarize` on whatever records exist.

The default table has one row per run without its seed (model, pruner, sparsity, and any
setting that varies within a model), the test error of each seed, their mean (and standard
deviation), and the reference if the experiment has one. An experiment can replace the rows
(``table``), the Markdown (``markdown``) and the figure (``plot``).
"""
from __future__ import annotations

import os
import statistics
import time
from typing import Optional

from ..files import save_figure
from . import records
from .registry import get
from .runner import IDENTITY, plan, python_call, report, runs_folder, usable_records


# What an unset (None) setting means, in a table: the default is "all" (max_train, prune_batch).
NONE_MEANS = {"score_init": "the trained weights", "sparsity": "dense"}


def _value(value, setting: str = "") -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return NONE_MEANS.get(setting, "all") if value is None else str(value)


def shown_settings(config) -> dict:
    """The settings a table shows: the key's, with every added setting at its default filled
    in (the key leaves it out there, a table row should not). Settings outside the key
    (``records.NOT_IN_KEY``, e.g. which kernels compute) are not shown: a record may have
    been made with any value of them; what the records say is in :func:`kernels_used`."""
    settings = {k: v for k, v in records.ADDED_SETTINGS.items() if k not in records.NOT_IN_KEY}
    settings.update(records.key_settings(config))
    return settings


def kernels_used(found: dict) -> dict:
    """How many of the pruned runs' records say they ran with each ``--sparse-kernels`` mode
    (a pruned record without the entry was made before sparse kernels existed: "off")."""
    modes = {}
    for record in found.values():
        entry = record.data.get("sparse_kernels")
        if entry or record.data.get("sparsity"):
            mode = entry["mode"] if entry else "off"
            modes[mode] = modes.get(mode, 0) + 1
    return modes


def protocol_config(config):
    """The protocol's run for the same model, pruner, sparsity, seed and data set."""
    from ..train import RunConfig
    return RunConfig(dataset=config.dataset, **{f: getattr(config, f) for f in IDENTITY})


def settings_differences(experiment, planned: list) -> list:
    """Every setting of the planned runs that differs from the protocol of its model family:
    ``{setting, protocol, used, chosen_by: "this experiment" | "the command line", models}``."""
    declared = {run.index: shown_settings(experiment.runs[run.index]) for run in planned}
    found = {}
    for run in planned:
        used = shown_settings(run.config)
        protocol = shown_settings(protocol_config(run.config))
        for setting, value in used.items():
            if setting in IDENTITY or setting == "dataset" or value == protocol.get(setting):
                continue
            chosen_by = ("this experiment" if declared[run.index].get(setting) == value
                         else "the command line")
            entry = found.setdefault((setting, repr(protocol.get(setting)), repr(value), chosen_by),
                                     dict(setting=setting, protocol=protocol.get(setting),
                                          used=value, chosen_by=chosen_by,
                                          declared=declared[run.index].get(setting), models=[]))
            if run.config.model not in entry["models"]:
                entry["models"].append(run.config.model)
    return list(found.values())


def dataset_choices(experiment, planned: list) -> list:
    """The data sets the runs read: ``{dataset, declared, chosen_by}``, one entry per pair of
    used and declared data set."""
    seen = {}
    for run in planned:
        declared = experiment.runs[run.index].dataset
        used = run.config.dataset
        seen.setdefault((used, declared), dict(
            dataset=used, declared=declared,
            chosen_by="this experiment" if used == declared else "the command line"))
    return list(seen.values())


def reference_applies(experiment, planned: list, differences: list) -> bool:
    """The reference is compared only when no setting was changed from the command line and
    every run reads the data set the reference was measured on."""
    if any(d["chosen_by"] == "the command line" for d in differences):
        return False
    wanted = experiment.reference_dataset
    return wanted is None or all(run.config.dataset == wanted for run in planned)


def common_settings(planned: list) -> list:
    """The settings of the runs, one entry per group of models that share them."""
    groups = []
    for run in planned:
        values = {k: v for k, v in shown_settings(run.config).items()
                  if k not in IDENTITY}
        for group in groups:
            if group["values"] == values:
                if run.config.model not in group["models"]:
                    group["models"].append(run.config.model)
                break
        else:
            groups.append(dict(models=[run.config.model], values=values))
    return groups


# ------------------------------------------------------------------------ default table
def pruner_label(config) -> str:
    return config.pruner if config.sparsity else "dense"


def default_table(experiment, planned: list, found: dict, comparable: bool) -> list:
    """One row per run without its seed, in the order the experiment declares them: the
    settings that vary within a model, each seed's test error and record file (None: not
    finished), their mean and standard deviation, the reference and the difference."""
    rows, index = [], {}
    per_model = {}
    for run in planned:
        settings = shown_settings(run.config)
        for setting, value in settings.items():
            per_model.setdefault((run.config.model, setting), set()).add(repr(value))
    varying = sorted({setting for (model, setting), values in per_model.items()
                      if len(values) > 1 and setting not in IDENTITY})
    for run in planned:
        settings = shown_settings(run.config)
        row_key = repr(sorted((k, v) for k, v in settings.items() if k != "seed"))
        if row_key not in index:
            index[row_key] = len(rows)
            rows.append(dict(model=run.config.model, pruner=pruner_label(run.config),
                             sparsity=float(run.config.sparsity or 0.0),
                             settings={s: settings[s] for s in varying}, seeds=[],
                             test_errors=[], records=[]))
        row = rows[index[row_key]]
        row["seeds"].append(run.config.seed)
        record = found.get(run.key)
        row["test_errors"].append(None if record is None else record.test_error)
        row["records"].append(None if record is None else os.path.basename(record.path))
    for row in rows:
        done = [(s, e) for s, e in zip(row["seeds"], row["test_errors"]) if e is not None]
        errors = [e for _, e in done]
        row["finished"] = len(done)
        row["mean_test_error"] = statistics.fmean(errors) if errors else None
        row["std_test_error"] = statistics.stdev(errors) if len(errors) > 1 else None
        reference = experiment.reference.get((row["model"], row["pruner"], row["sparsity"]), {})
        row["reference"] = [reference.get(seed) for seed in row["seeds"]]
        both = [(e, reference[s]) for s, e in done if s in reference]
        row["compared_seeds"] = [s for s, _ in done if s in reference] if comparable else []
        if comparable and both:
            row["difference"] = (statistics.fmean(e for e, _ in both)
                                 - statistics.fmean(r for _, r in both))
        else:
            row["difference"] = None
        row["within_tolerance"] = (None if row["difference"] is None or experiment.tolerance is None
                                   else abs(row["difference"]) <= experiment.tolerance)
    return rows


def row_records(row: dict, found: dict) -> list:
    """The records of a default-table row, seed by seed (None where not finished)."""
    by_name = {os.path.basename(record.path): record for record in found.values()}
    return [by_name.get(name) if name else None for name in row["records"]]


def mean_std(row: dict) -> str:
    """``12.34 ± 0.56`` (mean ± standard deviation over the finished seeds), ``12.34`` for one
    seed, empty for none; ``(2 of 3 seeds)`` after it while some seeds are not finished."""
    if row["mean_test_error"] is None:
        return ""
    text = f"{row['mean_test_error']:.2f}"
    if row["std_test_error"] is not None:
        text += f" ± {row['std_test_error']:.2f}"
    errors = row.get("test_errors") or []
    done = sum(e is not None for e in errors)
    if done < len(errors):
        text += f" ({done} of {len(errors)} seeds)"
    return text


def _numbers(values) -> str:
    return " / ".join("not run" if v is None else f"{v:.2f}" for v in values)


def default_markdown(summary: dict) -> str:
    lines = [f"# {summary['title']}", "", summary["description"], ""]
    lines += about_lines(summary)
    rows = summary["table"]
    varying = list(rows[0]["settings"]) if rows else []
    has_reference = summary["reference"]["comparable"] and any(
        any(v is not None for v in row["reference"]) for row in rows)
    reference_name = summary["reference"]["name"]
    head = ["model", "pruner", "sparsity"] + varying + ["seeds", "test error % per seed", "mean"]
    if has_reference:
        head += [f"{reference_name} per seed", "diff"]
        if summary["tolerance"] is not None:
            head.append(f"within ±{summary['tolerance']:g}")
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["model"], row["pruner"], f"{row['sparsity']:g}"]
        cells += [_value(row["settings"][s], s) for s in varying]
        cells += [", ".join(str(s) for s in row["seeds"]), _numbers(row["test_errors"]),
                  "" if row["mean_test_error"] is None else f"{row['mean_test_error']:.2f}"]
        if has_reference:
            cells.append("" if all(v is None for v in row["reference"])
                         else _numbers(row["reference"]).replace("not run", "-"))
            cells.append("" if row["difference"] is None else f"{row['difference']:+.2f}")
            if summary["tolerance"] is not None:
                cells.append("" if row["within_tolerance"] is None
                             else ("yes" if row["within_tolerance"] else "no"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def about_lines(summary: dict) -> list:
    """The summary's provenance as Markdown list items: the command, the runs and who made
    them, the data, every setting and what differs from the protocol, the reference."""
    runs = summary["runs"]
    lines = [f"- Summary made by `{summary['command']}` on {summary['written_at']}, from the "
             f"records in `runs/` (each holds its run's complete settings)."]
    missing = f"; not finished: {', '.join(runs['missing'])}" if runs["missing"] else ""
    lines.append(f"- Runs: {runs['finished']} of {runs['planned']} finished{missing}.")
    made = [f"`{c}` ({n})" for c, n in runs["made_by"].items()]
    if runs["converted"]:
        made.append(f"{runs['converted']} converted from the earlier record layout, which did "
                    f"not store the command")
    if made:
        lines.append("- Runs made by: " + "; ".join(made) + ".")
    for choice in summary.get("datasets", []):
        how = ("" if choice["chosen_by"] == "this experiment" else
               f" (chosen by the command line; the experiment declares {choice['declared']})")
        lines.append(f"- Data set: {choice['dataset']}{how}.")
    if summary["data_sources"]:
        lines.append(f"- Data read from: {', '.join(summary['data_sources'])}.")
    lines.append(f"- Protocol version {summary['protocol_version']}. Settings:")
    for group in summary["settings"]:
        values = ", ".join(f"{k} {_value(v, k)}" for k, v in group["values"].items())
        lines.append(f"  - {', '.join(group['models'])}: {values}")
    if summary.get("sparse_kernels"):
        modes = ", ".join(f"{mode} in {n}" for mode, n in summary["sparse_kernels"].items())
        lines.append(f"- Kernels of the pruned runs (`--sparse-kernels`; which kernels compute, "
                     f"not what: the same numbers to float rounding): {modes}.")
    if summary["differs_from_protocol"]:
        lines.append("- **Settings that differ from the protocol:**")
        for d in summary["differs_from_protocol"]:
            instead = _value(d["protocol"], d["setting"])
            if d["chosen_by"] == "the command line" and d.get("declared") != d["protocol"]:
                instead = (f"{_value(d.get('declared'), d['setting'])} (this experiment's; "
                           f"the protocol's {instead})")
            lines.append(f"  - {d['setting']} = {_value(d['used'], d['setting'])} instead of "
                         f"{instead} ({', '.join(d['models'])}; chosen by "
                         f"{d['chosen_by']})")
    else:
        lines.append("- Settings that differ from the protocol: none.")
    reference = summary["reference"]
    if reference["source"]:
        if reference["comparable"]:
            band = (f"; within ±{summary['tolerance']:g} points counts as agreeing"
                    if summary["tolerance"] is not None else "")
            lines.append(f"- {reference['name']}: {reference['source']}. diff = our mean minus "
                         f"the reference's, over the seeds both have{band}.")
        else:
            lines.append(f"- {reference['name']}: {reference['source']}. Not compared: these "
                         f"runs do not use the settings or the data set the reference was "
                         f"made with.")
    ignored = summary["ignored"]
    if ignored["other_settings"] or ignored["problems"]:
        lines.append(f"- Ignored in `runs/`: {ignored['other_settings']} record(s) made with "
                     f"other settings, {len(ignored['problems'])} file(s) that are not valid "
                     f"records (listed in summary.json).")
    return lines


def default_plot(summary: dict, path: str) -> None:
    """Test error against sparsity, one line per model and pruner; dense networks as
    horizontal lines; the reference's means as crosses."""
    fig = new_figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    series, references = {}, []
    for row in summary["table"]:
        if row["mean_test_error"] is None:
            continue
        extra = " ".join(f"{k} {_value(v, k)}" for k, v in row["settings"].items())
        label = f"{row['model']} {row['pruner']} {extra}".strip()
        if row["pruner"] == "dense":
            ax.axhline(row["mean_test_error"], ls="--", color="gray", lw=1)
            ax.annotate(label, (0.99, row["mean_test_error"]), ha="right", va="bottom",
                        xycoords=("axes fraction", "data"), fontsize=8, color="gray")
            continue
        series.setdefault(label, []).append((100 * row["sparsity"], row["mean_test_error"]))
        ref = [v for v in row["reference"] if v is not None]
        if ref and summary["reference"]["comparable"]:
            references.append((label, 100 * row["sparsity"], statistics.fmean(ref)))
    colours = {}
    for label, points in series.items():
        points.sort()
        line, = ax.plot([s for s, _ in points], [e for _, e in points], "o-", label=label)
        colours[label] = line.get_color()
    for i, (label, sparsity, error) in enumerate(references):
        ax.plot([sparsity], [error], "x", color=colours[label], markersize=8,
                label=f"{summary['reference']['name']} (crosses)" if i == 0 else None)
    ax.set_xlabel("sparsity (%)")
    ax.set_ylabel("test error (%)")
    ax.set_title(summary["title"], fontsize=10)
    changed = not_the_protocol_note(fig, summary)
    if series or references:
        ax.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0.04 if changed else 0, 1, 1))
    save_figure(fig, path)


def new_figure(**options):
    """A matplotlib Figure that belongs to no backend and no pyplot state: summaries draw
    their PNGs on it, so that writing one changes nothing for the notebook or program that
    called them (nothing shown, no backend chosen)."""
    from matplotlib.figure import Figure
    return Figure(**options)


def not_the_protocol_note(fig, summary: dict) -> bool:
    """Mark a figure whose runs use settings changed from the command line (a quick look):
    red text at the bottom. Returns whether there was anything to mark."""
    changed = [f"{d['setting']}={_value(d['used'], d['setting'])}"
               for d in summary["differs_from_protocol"]
               if d["chosen_by"] == "the command line"]
    changed += [f"dataset={c['dataset']}" for c in summary.get("datasets", [])
                if c["chosen_by"] == "the command line"]
    if changed:
        fig.text(0.01, 0.01, "NOT the protocol: " + ", ".join(changed), fontsize=8, color="red")
    return bool(changed)


# ----------------------------------------------------------------------------- summarize
def summarize(name: str, out: str = "runs", *, overrides: Optional[dict] = None,
              command: Optional[str] = None, quiet: bool = False,
              report_problems: bool = True) -> dict:
    """Build ``OUT/NAME/summary.{json,md,png}`` from the records of the planned runs (the
    experiment with ``overrides``); runs nothing. Returns the summary. Files of the records
    folder that are not valid records are named on stderr (``report_problems``) and in the
    summary, never read."""
    from ..files import write_json, write_text
    from ..train import PROTOCOL_VERSION
    experiment = get(name)
    overrides = {k: v for k, v in (overrides or {}).items() if k != "quiet"}
    planned = plan(experiment, overrides)
    folder = runs_folder(out, name)
    scan = records.scan(folder)
    if report_problems:
        report(name, folder, scan, planned, experiment=experiment)
    keys = {run.key for run in planned}
    usable, lacking = usable_records(experiment, scan)
    found = {key: record for key, record in usable.items() if key in keys}
    differences = settings_differences(experiment, planned)
    comparable = reference_applies(experiment, planned, differences)
    rows = (experiment.table or default_table)(experiment, planned, found, comparable)
    made_by, converted = {}, 0
    for record in found.values():
        if record.data.get("command"):
            made_by[record.data["command"]] = made_by.get(record.data["command"], 0) + 1
        elif record.data.get("converted_from"):
            converted += 1
    summary = dict(
        experiment=name, title=experiment.title, description=experiment.description,
        command=command or python_call(name, out, overrides, summarize=True),
        written_at=time.strftime("%Y-%m-%d %H:%M:%S %Z"), protocol_version=PROTOCOL_VERSION,
        datasets=dataset_choices(experiment, planned),
        data_sources=sorted({str(r.data.get("data_source")) for r in found.values()}),
        runs=dict(planned=len(planned), finished=len(found),
                  missing=[run.filename for run in planned if run.key not in found],
                  made_by=made_by, converted=converted),
        settings=common_settings(planned), differs_from_protocol=differences,
        sparse_kernels=kernels_used(found),
        reference=dict(name=experiment.reference_name, source=experiment.reference_source,
                       comparable=comparable),
        tolerance=experiment.tolerance, table=rows, quoted=experiment.quoted,
        ignored=dict(other_settings=len(usable) - len(found),
                     problems=[dict(file=p.file, reason=p.reason)
                               for p in scan.problems + lacking]))
    target = os.path.join(out, name)
    write_json(os.path.join(target, "summary.json"), summary)
    markdown = (experiment.markdown or default_markdown)(summary)
    write_text(os.path.join(target, "summary.md"), markdown)
    (experiment.plot or default_plot)(summary, os.path.join(target, "summary.png"))
    if not quiet:
        print(markdown, flush=True)
    return summary


def list_experiments(out: str = "runs") -> list:
    """Every experiment: name, title, runs, and how many of them have a record in ``out``."""
    from .registry import EXPERIMENTS
    rows = []
    for name, experiment in EXPERIMENTS.items():
        planned = plan(experiment)
        have, _ = usable_records(experiment, records.scan(runs_folder(out, name)))
        rows.append(dict(name=name, title=experiment.title, runs=len(planned),
                         finished=sum(run.key in have for run in planned),
                         datasets=list(experiment.datasets)))
    return rows
