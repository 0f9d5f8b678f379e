"""The train and score jobs end to end on the small utility: the champion scores the scoring
cut-off and the previous one, with reasons for the top of each list; `score_folder` scores a
data folder."""

import pandas as pd
import pytest

from powerlens.risk.scoring import FeatureMismatch
from support import ROOT

pytestmark = pytest.mark.slow


def fast_config():
    from powerlens.config import load_config

    cfg = load_config(ROOT / "params.yaml")
    return cfg.replace("train", tasks=("churn", "theft"), families=("lightgbm", "logistic"),
                       search=cfg.train.search.replace(enabled=False),
                       lightgbm=dict(cfg.train.lightgbm) | {"n_estimators": 60})


def test_train_then_score(small_clean, mlflow_store, tmp_path):
    from powerlens import tracking
    from powerlens.jobs import features, score, train

    cfg = fast_config()
    features.run(cfg.features, data=small_clean, out=tmp_path / "features", echo=lambda m: None)
    trained = train.run("churn", cfg, data=small_clean, features_dir=tmp_path / "features",
                        out=tmp_path / "models" / "churn", echo=lambda m: None)
    assert trained["promoted"] and tracking.champion_version("churn") is not None  # registered in the real store

    said = []
    result = score.run(cfg, features_dir=tmp_path / "features", out=tmp_path / "scores",
                       metrics=tmp_path / "metrics" / "score.json", echo=said.append)
    assert result["churn"]["champion_version"] == 1 and "theft" not in result
    assert any("theft: no champion in the registry yet" in m for m in said)
    scores = pd.read_parquet(tmp_path / "scores" / "scores.parquet")
    assert list(scores.columns) == ["customer_id", "task", "score", "rank", "reasons", "model_version"]
    assert set(scores["task"]) == {"churn"} and scores["score"].between(0, 1).all()
    assert sorted(scores["rank"]) == list(range(1, len(scores) + 1))
    explained = scores["reasons"] != ""
    feats = pd.read_parquet(tmp_path / "features" / "features.parquet")
    feats = feats[feats["as_of"] == feats["as_of"].max()]
    wanted = score.explained_ids(scores, feats, cfg)
    assert not explained[~scores["customer_id"].isin(wanted)].any()
    assert explained[scores["rank"] <= 20].mean() > 0.8
    # every region's own top list is explained, not only the utility's top
    region = scores["customer_id"].map(feats.set_index("customer_id")["region"])
    for name, rows in scores.assign(region=region.to_numpy()).groupby("region"):
        top = rows.nsmallest(cfg.report.top_n, "rank")
        assert top["customer_id"].isin(wanted).all(), name
        assert (top["reasons"] != "").mean() > 0.8, name
    assert result["churn"]["mean_score"] == pytest.approx(scores["score"].mean(), abs=1e-5)
    previous = pd.read_parquet(tmp_path / "scores" / "scores_previous.parquet")
    assert list(previous.columns) == ["customer_id", "task", "score"] and len(previous) > 0

    out = tmp_path / "folder_scores.csv"
    n = score.score_folder("churn", cfg, data=small_clean, out=out, echo=lambda m: None)
    wide = pd.read_csv(out)
    assert n == len(wide) and list(wide.columns) == ["customer_id", "score", "reasons"]
    assert wide["score"].between(0, 1).all()


def test_a_folder_whose_features_do_not_match_the_model_is_refused(small_clean, mlflow_store, tmp_path,
                                                                    monkeypatch):
    from powerlens import tracking
    from powerlens.jobs import score
    from powerlens.risk.models import LogisticModel

    X = pd.DataFrame({"no_such_feature": [0.0, 1.0, 2.0, 3.0], "kwh_365d": [1.0, 2.0, 3.0, 4.0]})
    model = LogisticModel().fit(X, [0, 1, 0, 1])
    monkeypatch.setattr(tracking, "load_model", lambda uri: model)
    with pytest.raises(FeatureMismatch, match="missing no_such_feature"):
        score.score_folder("churn", fast_config(), data=small_clean, out=tmp_path / "x.csv", model_uri="models:/x/1",
                           echo=lambda m: None)
