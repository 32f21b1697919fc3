#!/usr/bin/python3
"""The real-world table suite of docs/benchmarks.md: `mlround train --weight-bits 4` (every other option at its default)
beside scikit-learn's HistGradientBoosting and linear model (Ridge / LogisticRegression) and ML.NET's LightGbm (through
`mlround compare`, on mlround's featurization) on the same 80/20 split.

Needs Debian's python3-sklearn, python3-pandas and python3-vega-datasets (tables under
/usr/lib/python3/dist-packages/vega_datasets/_data) and a built mlround (dotnet build Samples/Mlround).
Usage: Tests/Benchmarks/table-suite.py [MLROUND_DLL] > suite.csv   (prints one CSV row per table; progress on stderr)
Nothing is written into the repository: the splits go to a temporary folder.
"""
import json, os, subprocess, sys, tempfile
import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

VEGA = "/usr/lib/python3/dist-packages/vega_datasets/_data"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sk(name):
    d = getattr(datasets, "load_" + name)(as_frame=True)
    return d.frame.rename(columns={"target": "Label"}), "Label"


def iris_blanked():
    df = pd.read_json(f"{VEGA}/iris.json")
    rng = np.random.default_rng(1)
    for col in ["sepalLength", "sepalWidth", "petalLength", "petalWidth"]:
        df.loc[rng.random(len(df)) < 0.1, col] = np.nan
    return df, "species"


def noisy():
    x, y = datasets.make_classification(n_samples=2000, n_features=500, n_informative=20, n_redundant=20, flip_y=0.05, random_state=1)
    df = pd.DataFrame(x, columns=[f"f{i}" for i in range(500)])
    df["Label"] = y
    return df, "Label"


TABLES = {
    "breast_cancer": lambda: sk("breast_cancer"),
    "diabetes": lambda: sk("diabetes"),
    "wine": lambda: sk("wine"),
    "airports": lambda: (pd.read_csv(f"{VEGA}/airports.csv"), "state"),
    "barley": lambda: (pd.read_json(f"{VEGA}/barley.json"), "yield"),
    "iowa-electricity": lambda: (pd.read_csv(f"{VEGA}/iowa-electricity.csv"), "net_generation"),
    "us-employment": lambda: (pd.read_csv(f"{VEGA}/us-employment.csv"), "nonfarm_change"),
    "stocks": lambda: (pd.read_csv(f"{VEGA}/stocks.csv"), "price"),
    "iris-blanked": iris_blanked,
    "cars": lambda: (pd.read_csv(f"{REPO}/Samples/data/cars.csv"), "Miles_per_Gallon"),
    "seattle-weather": lambda: (pd.read_csv(f"{REPO}/Samples/data/seattle-weather.csv"), "weather"),
    "noisy-2000x500": noisy,
}


def features(train, test, label):
    """The peers' features: numbers as they are, dates as year, month, day and day of week, other text one-hot (at most 100 values), identifiers dropped."""
    frames = []
    for df in (train, test):
        out = pd.DataFrame(index=df.index)
        for col in df.columns:
            if col == label:
                continue
            s = df[col]
            if s.dtype != object:
                out[col] = s
                continue
            dates = pd.to_datetime(s, errors="coerce", format="mixed")
            if dates.notna().mean() > 0.9:
                for part in ("year", "month", "day", "dayofweek"):
                    out[f"{col}.{part}"] = getattr(dates.dt, part)
            elif train[col].nunique() <= 100 and train[col].nunique() < len(train) * 0.5:
                out[col] = s.astype("category")
        frames.append(out)
    return frames


def peers(train, test, label, task):
    xtr, xte = features(train, test, label)
    cats = [c for c in xtr.columns if str(xtr[c].dtype) == "category"]
    nums = [c for c in xtr.columns if c not in cats]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), nums),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
    ])
    ytr, yte = train[label], test[label]
    if task == "regression":
        hgb, lin = HistGradientBoostingRegressor(random_state=1), Ridge()
        score = lambda m: mean_squared_error(yte, m.predict(pre.transform(xte) if m is lin else hgbx(xte))) ** 0.5
    else:
        hgb, lin = HistGradientBoostingClassifier(random_state=1), LogisticRegression(max_iter=2000)
        score = lambda m: accuracy_score(yte.astype(str), pd.Series(m.predict(pre.transform(xte) if m is lin else hgbx(xte))).astype(str))
    hgbx = lambda x: pd.concat([x[nums], pd.get_dummies(x[cats].astype(str)).reindex(columns=dummies, fill_value=0)], axis=1) if cats else x[nums]
    dummies = pd.get_dummies(xtr[cats].astype(str)).columns if cats else []
    hgb.fit(hgbx(xtr), ytr.astype(str) if task != "regression" else ytr)
    lin.fit(pre.fit_transform(xtr), ytr.astype(str) if task != "regression" else ytr)
    return score(hgb), score(lin)


def main():
    dll = sys.argv[1] if len(sys.argv) > 1 else f"{REPO}/Samples/Mlround/bin/Release/net10.0/mlround.dll"
    print("table,rows,test_rows,task,metric,mlround_w4,hist_gradient_boosting,linear,lightgbm,best_sklearn_peer,ratio_or_gap,target_met")
    for name, load in TABLES.items():
        df, label = load()
        df = df[df[label].notna()]
        test = df.sample(frac=0.2, random_state=1)
        train = df.drop(test.index)
        with tempfile.TemporaryDirectory() as tmp:
            train.to_csv(f"{tmp}/train.csv", index=False)
            test.to_csv(f"{tmp}/test.csv", index=False)
            run = subprocess.run(["dotnet", dll, "train", "--data", f"{tmp}/train.csv", "--test-data", f"{tmp}/test.csv", "--label", label,
                                  "--weight-bits", "4", "--out", f"{tmp}/m.zip", "--json"], capture_output=True, text=True)
            compare = subprocess.run(["dotnet", dll, "compare", "--data", f"{tmp}/train.csv", "--test-data", f"{tmp}/test.csv", "--label", label,
                                      "--bits", "4", "--json"], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{name}: mlround failed: {run.stderr.strip()}", file=sys.stderr)
            continue
        result = json.loads(run.stdout.strip().splitlines()[-1])
        task = result["task"]
        metric = "rmse" if task == "regression" else "accuracy"
        ours = result[metric]
        hgb, lin = peers(train, test, label, task)
        lightgbm = next((r[metric] for r in json.loads(compare.stdout.strip().splitlines()[-1])["rows"] if r["mode"] == "lightgbm"), float("nan")) if compare.returncode == 0 else float("nan")
        if task == "regression":
            best = min(hgb, lin)
            measure, met = ours / best, ours <= 1.15 * best
        else:
            best = max(hgb, lin)
            measure, met = best - ours, ours >= best - 0.03
        print(f"{name},{len(df)},{len(test)},{task},{metric},{ours:.4f},{hgb:.4f},{lin:.4f},{lightgbm:.4f},{best:.4f},{measure:.3f},{met}", flush=True)
        print(f"{name}: {metric} ours {ours:.4f}, HGB {hgb:.4f}, linear {lin:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
