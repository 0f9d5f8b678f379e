"""DVC stage `validate`: import the source named by `data.source` (the synthetic utility's raw
export by default) into anonymized, validated canonical tables."""

from pathlib import Path

from powerlens import stages

if __name__ == "__main__":
    params = stages.params()
    fmt, src, mapping = stages.source_settings(params)
    stages.validate(src, Path("data/clean"), None, params["validate"]["max_reject_fraction"],
                    truth_out=Path("data/truth/ground_truth.parquet"), metrics=Path("metrics/validate.json"),
                    fmt=fmt, mapping=mapping)
