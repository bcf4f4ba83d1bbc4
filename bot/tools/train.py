"""Build the learned second opinion (`bot/core/model/learned.npz`) from the repository's data.

`python -m bot train` reads every labelled message the project holds (the development set,
the first-sight batches, the training batches in `tests/data/`, and the intents' example
phrases), fits one logistic regression per head with scikit-learn, chooses each head's
threshold by cross-validation grouped by file (so a threshold is judged on a writer it was not
fitted on), and writes plain arrays. Deterministic: the same data gives the same file.
scikit-learn is a development dependency; the bot itself needs only numpy to use the result.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.core import learned
from bot.core.engine import Engine
from bot.core.learned import BINARY_HEADS, MODEL_FILE, LearnedModel, features
from bot.paths import data_dir

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
FAMILIES = (
    "self_harm",
    "poisoning",
    "withdrawal",
    "dysreflexia",
    "baby",
    "general",
    "pump_wound",
    "too_much",
    "pump_device",
)
MIN_DF = 2
C_BINARY = 4.0
C_MULTI = 8.0
# Cross-validated false-alarm budgets: the share of messages of the other kind a head may
# wrongly flag at its threshold (the rules' own false alarms come on top).
BUDGET = {"emergency": 0.015, "urgent": 0.025, "dosing": 0.01, "out_of_scope": 0.015}


@dataclass(frozen=True)
class Row:
    group: str
    words: tuple[str, ...]
    route: str | None
    role: str | None
    safety: str | None  # None: an intent example (no safety label)
    family: str | None
    action: str | None
    intent: str | None


def data_files() -> list[Path]:
    """Every labelled file the model learns from, in a fixed order."""
    files = sorted(DATA.glob("dev_*.jsonl"))
    files += sorted((DATA / "first_sight").glob("*.jsonl"))
    files += sorted((DATA / "train").glob("*.jsonl"))
    return files


def digest(files: Sequence[Path]) -> str:
    """A fingerprint of everything the model depends on (data, intents, vocabulary, code)."""
    h = hashlib.sha256()
    intents = data_dir("intents")
    inputs = [
        *files,
        *sorted(intents.glob("*.yaml")),
        intents / "rules" / "vocabulary.yaml",
        intents / "rules" / "triage.yaml",  # its idioms are taken out of what the model reads
        intents / "rules" / "common_words.yaml",
        Path(learned.__file__),
        Path(__file__),
    ]
    for path in inputs:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _words(engine: Engine, text: str) -> tuple[str, ...]:
    """The words the model reads, exactly as the engine gives them to it."""
    return engine.model_words(engine.normaliser.normalise(text).text)


def load_rows(engine: Engine, files: Sequence[Path]) -> list[Row]:
    rows: list[Row] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            p = r.get("profile") if isinstance(r.get("profile"), dict) else {}
            rows.append(
                Row(
                    group=path.stem,
                    words=_words(engine, r["text"]),
                    route=p.get("route"),
                    role=p.get("role"),
                    safety=r["safety"],
                    family=r.get("sign") if r["safety"] != "routine" else None,
                    action=r["action"],
                    intent=r.get("intent"),
                )
            )
    for intent in engine.intents.values():
        for text in intent.examples:
            rows.append(
                Row("intents", _words(engine, text), None, None, None, None, "answer", intent.id)
            )
    return rows


def _matrix(rows: Sequence[Row]) -> tuple[Any, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The TF-IDF (binary, l2-normalised) matrix over the feature ids seen at least MIN_DF
    times, those ids (sorted) and their IDF."""
    from scipy.sparse import csr_matrix

    feats = [features(r.words, r.route, r.role) for r in rows]
    ids, df = np.unique(np.concatenate(feats), return_counts=True)
    used = ids[df >= MIN_DF]
    n = len(rows)
    idf = (np.log((1 + n) / (1 + df[df >= MIN_DF])) + 1.0).astype(np.float32)
    indptr, indices, values = [0], [], []
    for f in feats:
        pos = np.minimum(np.searchsorted(used, f), len(used) - 1)
        cols = np.sort(pos[used[pos] == f])
        v = idf[cols].astype(np.float64)
        norm = np.sqrt(v @ v) if len(cols) else 1.0
        indices.extend(cols.tolist())
        values.extend((v / norm).tolist())
        indptr.append(len(indices))
    x = csr_matrix((values, indices, indptr), shape=(n, len(used)), dtype=np.float64)
    return x, used, idf


def _binary(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000,
                              random_state=0)  # fmt: skip


def _multi(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", solver="lbfgs", max_iter=3000)


def _oof(
    make: Callable[[], Any], x: Any, y: np.ndarray[Any, Any], groups: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """Out-of-fold probabilities of the positive class, folds grouped by file."""
    from sklearn.model_selection import GroupKFold

    out = np.zeros(len(y))
    folds = GroupKFold(n_splits=min(5, len(set(groups))))
    for train, test in folds.split(x, y, groups):
        model = make().fit(x[train], y[train])
        out[test] = model.predict_proba(x[test])[:, 1]
    return out


def _threshold(probs: np.ndarray[Any, Any], y: np.ndarray[Any, Any], budget: float) -> float:
    """The lowest threshold whose false-alarm rate on negatives stays within the budget."""
    negatives = np.sort(probs[y == 0])[::-1]
    allowed = int(len(negatives) * budget)
    return float(max(negatives[allowed] + 1e-6, 0.05)) if len(negatives) > allowed else 0.5


def build(rows: Sequence[Row], report: Callable[[str], None] = print) -> dict[str, Any]:
    """Fit every head on `rows`; return the arrays of a model file (without its digest)."""
    x, buckets, idf = _matrix(rows)
    groups = np.array([r.group for r in rows])
    labelled = np.array([r.safety is not None for r in rows])
    report(
        f"{len(rows)} messages ({int(labelled.sum())} with safety labels), {len(buckets)} features"
    )

    everyone = np.ones(len(rows), bool)
    targets: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {
        "emergency": (labelled, np.array([r.safety == "emergency" for r in rows])),
        "urgent": (labelled, np.array([r.safety in ("urgent", "emergency") for r in rows])),
        "dosing": (everyone, np.array([r.action == "refuse_personal_dosing" for r in rows])),
        "out_of_scope": (everyone, np.array([r.action == "out_of_scope" for r in rows])),
    }
    columns: list[np.ndarray[Any, Any]] = []
    biases: list[float] = []
    thresholds: dict[str, float] = {}
    for head in BINARY_HEADS:
        mask, y = targets[head]
        xs, ys = x[mask], y[mask].astype(int)
        probs = _oof(lambda: _binary(C_BINARY), xs, ys, groups[mask])
        thresholds[head] = _threshold(probs, ys, BUDGET[head])
        hit = probs >= thresholds[head]
        report(
            f"{head}: threshold {thresholds[head]:.3f}; cross-validated recall "
            f"{100 * hit[ys == 1].mean():.1f}% ({int(hit[ys == 1].sum())}/{int(ys.sum())}), "
            f"false alarms {100 * hit[ys == 0].mean():.1f}%"
        )
        model = _binary(C_BINARY).fit(xs, ys)
        columns.append(model.coef_[0])
        biases.append(float(model.intercept_[0]))

    names: dict[str, list[str]] = {}
    multi: dict[str, list[str | None]] = {
        "families": [r.family if r.family in FAMILIES else None for r in rows],
        "intents": [r.intent if r.action == "answer" else None for r in rows],
    }
    for head, labels in multi.items():
        m = np.array([bool(label) for label in labels])
        fitted = _multi(C_MULTI).fit(x[m], np.array([str(v) for v in labels])[m])
        names[head] = [str(c) for c in fitted.classes_]
        columns.extend(fitted.coef_)
        biases.extend(float(b) for b in fitted.intercept_)
    report(f"family head: {len(names['families'])} families; intents: {len(names['intents'])}")
    return {
        "buckets": buckets,
        "idf": idf,
        "weights": np.vstack(columns).T.astype(np.float16),
        "bias": np.array(biases, dtype=np.float64),
        "families": np.array(names["families"]),
        "intents": np.array(names["intents"]),
        "threshold_names": np.array(list(thresholds)),
        "thresholds": np.array(list(thresholds.values()), dtype=np.float64),
    }


def train(report: Callable[[str], None] = print) -> Path:
    engine = Engine.load(learned=False)
    files = data_files()
    arrays = build(load_rows(engine, files), report)
    MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
    _write_npz(MODEL_FILE, **arrays, data_digest=np.array(digest(files)))
    report(f"wrote {MODEL_FILE} ({MODEL_FILE.stat().st_size / 1e6:.1f} MB)")
    return MODEL_FILE


def cross_evaluate(held_out: Sequence[Path], report: Callable[[str], None] = print) -> None:
    """End to end, one writer at a time: train without a file, then score the engine on it.

    The honest development number between first-sight batches: the learned part has never
    seen the writer it is scored on (the rules may have; the ledger says when).
    """
    from bot.tools.evaluate import TABLE_HEADER, evaluate, read_jsonl

    engine = Engine.load()
    files = data_files()
    rows = load_rows(engine, files)
    report(TABLE_HEADER)
    for path in held_out:
        kept = [r for r in rows if r.group != path.stem]
        arrays = build(kept, lambda _: None)
        arrays["data_digest"] = np.array("cross-validation")
        engine.use_learned(LearnedModel(arrays, path))
        report(evaluate(engine, read_jsonl([path])).table_row(path.stem))


def _write_npz(path: Path, **arrays: np.ndarray[Any, Any]) -> None:
    """Like numpy.savez_compressed, but byte-for-byte reproducible (fixed zip timestamps), and
    written whole before it replaces the old file (a running bot never reads half a model)."""
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())
    partial.replace(path)


def main() -> int:
    train()
    return 0
