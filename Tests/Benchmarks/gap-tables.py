#!/usr/bin/python3
"""Tables with missing cells made on purpose, for checking how mlround treats gaps beyond the suite's two tables
(docs/benchmarks.md, "Missing numbers on tables outside the suite"): scikit-learn's breast_cancer, wine and diabetes
with a tenth of every feature's cells blanked at random (MCAR), breast_cancer with three informative columns blanked
far more often in one class, and diabetes with bmi blanked far more often above the median target (both MNAR: the gaps
tell something about the label). Each split 80/20 as the suite splits (pandas `sample(frac=0.2, random_state=1)`).

Needs Debian's python3-sklearn and python3-pandas. Usage: Tests/Benchmarks/gap-tables.py OUT_DIR
(writes NAME-train.csv and NAME-test.csv, label column `Label`; nothing is written into the repository).
"""
import sys
import numpy as np
import pandas as pd
from sklearn import datasets


def sk(name):
    d = getattr(datasets, "load_" + name)(as_frame=True)
    return d.frame.rename(columns={"target": "Label"})


def tables():
    out = {}
    for name in ["breast_cancer", "wine", "diabetes"]:
        df = sk(name)
        rng = np.random.default_rng(2)
        mcar = df.copy()
        for c in [c for c in df.columns if c != "Label"]:
            mcar.loc[rng.random(len(df)) < 0.1, c] = np.nan
        out[name + "-mcar"] = mcar
    df = sk("breast_cancer")
    rng = np.random.default_rng(3)
    mnar = df.copy()
    for c in ["worst perimeter", "worst concave points", "mean concave points"]:
        mnar.loc[rng.random(len(df)) < np.where(df.Label == 0, 0.35, 0.05), c] = np.nan
    out["breast_cancer-mnar"] = mnar
    df = sk("diabetes")
    rng = np.random.default_rng(4)
    mnar = df.copy()
    mnar.loc[rng.random(len(df)) < np.where(df.Label > df.Label.median(), 0.3, 0.03), "bmi"] = np.nan
    out["diabetes-mnar"] = mnar
    return out


def main():
    folder = sys.argv[1]
    for name, df in tables().items():
        test = df.sample(frac=0.2, random_state=1)
        df.drop(test.index).to_csv(f"{folder}/{name}-train.csv", index=False)
        test.to_csv(f"{folder}/{name}-test.csv", index=False)
        print(name, len(df) - len(test), len(test))


if __name__ == "__main__":
    main()
