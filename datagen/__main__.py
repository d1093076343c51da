"""``python -m datagen``: list the CLI steps."""

STEPS = [
    ("generate_batch", "Step 1: training request JSONL"),
    ("generate_gold_batch", "Step 1 (gold): 8 x 10 request JSONL"),
    ("submit_batch", "Step 2: upload and create the batch (--wait)"),
    ("retrieve_batch", "Step 3: download results"),
    ("preprocess", "Step 4: parse into dialogues, write dataset.jsonl"),
    ("render_txt", "Step 5: Qwen chat-template .txt files"),
    ("push_to_hub", "Step 6: publish accepted records"),
    ("import_file", "import dialogues made elsewhere"),
    ("stats", "counts per kind, category and state"),
    ("retry_failed", "resubmit a job's failed requests"),
    ("validate", "re-run all checks, duplicates, decontamination"),
    ("review", "accept / reject samples, accept a job's samples without findings"),
]

if __name__ == "__main__":
    for name, text in STEPS:
        print(f"python -m datagen.{name:20} {text}")
