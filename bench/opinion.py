"""``python -m bench.opinion``: classification of posts (sector, tone, urgency), items/s.

Classifies ``--items`` posts of the shipped labelled set, cycled, in batches of ``--batch``,
after the model is trained (training time printed apart). The anchors: the same models over
texts whose features are already computed (the floor: scikit-learn alone), and pyvi's word
segmentation alone (the part of the cost the Vietnamese text takes).

    python -m bench.opinion [--items 5000] [--batch 200]
"""

from __future__ import annotations

import argparse
import itertools
import time

from opinion import classify, corpus
from opinion.text import features, normalise, segment


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:9.0f} items/s ({seconds:.2f} s for {n})"


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    posts = corpus.read_labelled()
    texts = [p.text for p in itertools.islice(itertools.cycle(posts), args.items)]
    start = time.perf_counter()
    model = classify.model()
    print(f"training on {len(classify.split(posts)[0])} posts (the training part of "
          f"{len(posts)}): {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    for i in range(0, len(texts), args.batch):
        model.predict(texts[i:i + args.batch])
    ours = time.perf_counter() - start
    print("classify (normalise, segment, fold, 3 models):", _rate(len(texts), ours))
    ready = [features(t) for t in texts]
    start = time.perf_counter()
    for i in range(0, len(ready), args.batch):
        x = model.vectoriser.transform(ready[i:i + args.batch])
        for task in classify.TASKS:
            model.models[task].predict(x)
    floor = time.perf_counter() - start
    print("anchor, models over ready features:            ", _rate(len(texts), floor))
    start = time.perf_counter()
    for t in texts:
        segment(normalise(t))
    pyvi = time.perf_counter() - start
    print("anchor, pyvi segmentation alone:               ", _rate(len(texts), pyvi))
    print(f"ratios: classify / models alone {floor / ours:.3f} of their rate, "
          f"classify / pyvi alone {pyvi / ours:.3f} of its rate")


if __name__ == "__main__":
    main()
