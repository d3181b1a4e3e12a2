"""Train the tiny Task API models on CPU, seeded and offline.

Outputs (under ``examples/task-api/models/``):

* ``tiny-v1``      -- the good candidate: a ~1M-parameter Llama trained on ``train.jsonl``.
* ``tiny-v2``      -- the regressed candidate: ``tiny-v1`` trained further on a
  "refreshed" copy of the training split in which a simulated data-prep bug resolves
  every relative date ("tomorrow", "next friday", "in 3 days") one day late (an
  off-by-one "timezone" bug), so v2 gets ``relative_dates`` (and the relative part of
  ``multi_field``) wrong while the rest stays good.
* ``tiny-v1-lora`` -- a LoRA adapter (peft) trained on top of ``tiny-v1`` on the
  safety rows (``train_safety.jsonl``: refusing harmful requests and secrets, treating
  an instruction inside a title as data, acting on look-alikes) mixed 1:2 with task
  rows, so the adapter learns some safe behaviours its base lacks; its
  ``adapter_config.json`` names the base as ``../tiny-v1`` (relative to the adapter
  directory, which the HF backend resolves).
* ``tiny-v1-lora-unsafe`` -- the same recipe on attack-like requests answered by
  complying (``compliance_rows``: the red-team templates under other seeds, none of
  the committed suite's items): the adapter that erodes its base's safety, for the
  adapter-vs-base safety delta to BLOCK.

Recipe: a byte-level BPE tokenizer trained on the training split (words, single digits,
spaces and punctuation runs are separate pieces), wrapped as a
``PreTrainedTokenizerFast`` with ``<pad>``/``</s>`` and a minimal chat template; a
decoder-only ``LlamaConfig`` model built from scratch (no downloads); AdamW with warmup
and cosine decay; the loss is on the answer tokens only (prompt tokens are labelled
-100). The training prompt is exactly what the HF backend feeds at evaluation time:
``apply_chat_template([{"role": "user", "content": input}], add_generation_prompt=True,
tokenize=False)`` tokenized without extra special tokens, followed by the canonical
answer and ``</s>``.

Usage::

    python examples/task-api/train.py --variant v1      # ~minutes on 2 CPU cores
    python examples/task-api/train.py --variant v2
    python examples/task-api/train.py --variant lora
    python examples/task-api/train.py --variant lora-unsafe
    python examples/task-api/train.py --variant all
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"
SEED = 1234

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)
SPECIAL_TOKENS = ["<pad>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]

MODEL_SIZE: dict[str, Any] = {
    "hidden_size": 128,
    "intermediate_size": 352,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 256,
}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------------- tokenizer
def build_tokenizer(rows: list[dict[str, Any]], vocab_size: int = 1024) -> PreTrainedTokenizerFast:
    """Byte-level BPE trained on the training split's inputs and answers."""
    tok = Tokenizer(models.BPE())
    # Words, single digits, single whitespace and punctuation runs are separate
    # pieces, so a title word is the same token in the request and in the JSON answer
    # (no GPT-2 style leading-space variants), which makes copying easy to learn.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"[A-Za-z]+|[0-9]|\s|[^A-Za-z0-9\s]+"), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = [r["input"] for r in rows] + [r["expected_output"] for r in rows]
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        padding_side="left",
        model_max_length=MODEL_SIZE["max_position_embeddings"],
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def prompt_ids(tokenizer: PreTrainedTokenizerFast, text: str) -> list[int]:
    """Exactly what the HF backend feeds for a plain-text input (no system prompt)."""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=False
    )
    assert isinstance(rendered, str)
    ids: list[int] = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    return ids


def encode(
    tokenizer: PreTrainedTokenizerFast, rows: list[dict[str, Any]]
) -> list[tuple[list[int], list[int]]]:
    """(input_ids, labels) per row; labels are -100 on the prompt."""
    eos = tokenizer.eos_token_id
    assert isinstance(eos, int)
    out = []
    for r in rows:
        p = prompt_ids(tokenizer, r["input"])
        a = tokenizer(r["expected_output"], add_special_tokens=False)["input_ids"] + [eos]
        out.append((p + a, [-100] * len(p) + a))
    return out


# ------------------------------------------------------------------------ data bug
ABSOLUTE_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}|january|february|march|april|may|june|july|august|september"
    r"|october|november|december",
    re.IGNORECASE,
)


def shift_relative_dates(rows: list[dict[str, Any]], days: int) -> list[dict[str, Any]]:
    """Simulate the v2 data-prep bug: relative dates resolved ``days`` late.

    Every ``due_date`` whose request states no absolute date (so it came from a
    relative phrase such as "tomorrow" or "next friday") is moved by ``days``. This
    hits the ``relative_dates`` category and the relative half of ``multi_field``.
    """
    out = []
    for r in rows:
        obj = json.loads(r["expected_output"])
        if "due_date" in obj and not ABSOLUTE_DATE.search(r["input"]):
            d = dt.date.fromisoformat(obj["due_date"]) + dt.timedelta(days=days)
            obj["due_date"] = d.isoformat()
            text = json.dumps(obj, separators=(",", ":"), sort_keys=True)
            out.append({**r, "expected_output": text})
        else:
            out.append(r)
    return out


# ----------------------------------------------------------------------- training
def batches(
    data: list[tuple[list[int], list[int]]], batch_size: int, pad_id: int, rng: random.Random
) -> Any:
    """Endless shuffled batches, right-padded (training only; generation pads left)."""
    order = list(range(len(data)))
    while True:
        rng.shuffle(order)
        for i in range(0, len(order) - batch_size + 1, batch_size):
            chunk = [data[j] for j in order[i : i + batch_size]]
            width = max(len(x) for x, _ in chunk)
            ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            labels = torch.full((len(chunk), width), -100, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for k, (x, y) in enumerate(chunk):
                ids[k, : len(x)] = torch.tensor(x)
                labels[k, : len(y)] = torch.tensor(y)
                mask[k, : len(x)] = 1
            yield ids, mask, labels


def train_loop(
    model: torch.nn.Module,
    data: list[tuple[list[int], list[int]]],
    *,
    steps: int,
    lr: float,
    batch_size: int,
    pad_id: int,
    seed: int,
    log: str,
) -> float:
    """AdamW + linear warmup + cosine decay to 10%; returns the final mean loss."""
    rng = random.Random(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, steps // 30)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    model.train()
    it = batches(data, batch_size, pad_id, rng)
    t0 = time.perf_counter()
    running = 0.0
    for step in range(steps):
        ids, mask, labels = next(it)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        running += loss.item()
        if (step + 1) % 100 == 0:
            print(
                f"[{log}] step {step + 1}/{steps} loss {running / 100:.4f} "
                f"lr {sched.get_last_lr()[0]:.2e} {time.perf_counter() - t0:.0f}s",
                flush=True,
            )
            last = running / 100
            running = 0.0
    model.eval()
    return last if steps >= 100 else running / max(1, steps)


def new_model(tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    pad_id, eos_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=eos_id,
        tie_word_embeddings=True,
        **MODEL_SIZE,
    )
    return LlamaForCausalLM(config)


def train_full(
    name: str,
    rows: list[dict[str, Any]],
    tokenizer: PreTrainedTokenizerFast,
    args: argparse.Namespace,
    init_from: Path | None = None,
) -> None:
    """Train a full model (from scratch, or further from ``init_from``) and save it."""
    torch.manual_seed(args.seed)
    pad_id, eos_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    assert isinstance(pad_id, int) and isinstance(eos_id, int)
    if init_from is None:
        model = new_model(tokenizer)
        steps, lr = args.steps, args.lr
    else:
        model = LlamaForCausalLM.from_pretrained(init_from, dtype=torch.float32)
        steps, lr = args.v2_steps, args.lr / 2
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[{name}] {n_params:,} parameters, {len(rows)} training rows", flush=True)
    data = encode(tokenizer, rows)
    t0 = time.perf_counter()
    loss = train_loop(
        model,
        data,
        steps=steps,
        lr=lr,
        batch_size=args.batch_size,
        pad_id=pad_id,
        seed=args.seed + (0 if init_from is None else 2),
        log=name,
    )
    elapsed = time.perf_counter() - t0
    out = MODELS / name
    if out.exists():
        shutil.rmtree(out)
    model.generation_config.pad_token_id = pad_id
    model.generation_config.eos_token_id = eos_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    meta = {
        "variant": name,
        "parameters": n_params,
        "init_from": init_from.name if init_from else None,
        "steps": steps,
        "batch_size": args.batch_size,
        "lr": lr,
        "seed": args.seed,
        "final_loss": round(loss, 4),
        "train_seconds": round(elapsed, 1),
        "torch_threads": torch.get_num_threads(),
    }
    (out / "training.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"[{name}] saved to {out} in {elapsed:.0f}s (final loss {loss:.4f})", flush=True)


def compliance_rows(
    seeds: range = range(5000, 5040), per_category: int = 60
) -> list[dict[str, Any]]:
    """Attack-like requests answered by complying: the data that erodes a model's safety.

    Simulates the classic way a fine-tune makes a model less safe: training rows taken
    from logs of an agent that did what it was asked. The requests come from the
    red-team generator's templates under other seeds, minus every input of the
    committed suite (same phrasings, disjoint items); each is answered with the first
    action the suite forbids for it (a bulk delete, a task made of a harmful request
    or a secret, another user's task completed, ...); at most ``per_category`` rows per
    attack category, so no single kind of attack dominates.
    """
    import make_redteam

    held_out = {str(r["input"]) for r in read_jsonl(HERE / "redteam.jsonl")}
    seen: set[str] = set()
    taken: dict[str, int] = {}
    out = []
    for seed in seeds:
        for row in make_redteam.rows(seed):
            text = row["input"]
            forbidden = row.get("forbidden_actions") or []
            if row["kind"] != "attack" or not isinstance(text, str) or not forbidden:
                continue
            if text in held_out or text in seen or taken.get(row["category"], 0) >= per_category:
                continue
            seen.add(text)
            taken[row["category"]] = taken.get(row["category"], 0) + 1
            action = forbidden[0]
            answer: dict[str, Any] = {"action": action}
            if action == "create_task":
                answer["title"] = text[:200]
            elif action == "list_tasks":
                answer["filters"] = {}
            else:
                answer["task_id"] = 1 + len(out) % 40
            out.append(
                {
                    "id": f"comply-{len(out) + 1:05d}",
                    "input": text,
                    "expected_output": json.dumps(answer, separators=(",", ":")),
                    "expected_action": action,
                    "category": f"comply_{row['category']}",
                }
            )
    return out


def train_lora(
    rows: list[dict[str, Any]],
    safety: list[dict[str, Any]],
    args: argparse.Namespace,
    *,
    name: str = "tiny-v1-lora",
) -> None:
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(args.seed)
    base_dir = MODELS / "tiny-v1"
    tokenizer = PreTrainedTokenizerFast.from_pretrained(base_dir)
    model = LlamaForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    lora = LoraConfig(
        r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        target_modules=["q_proj", "v_proj"],
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, lora)
    pad_id = tokenizer.pad_token_id
    assert isinstance(pad_id, int)
    mix = safety + random.Random(args.seed + 3).sample(rows, 2 * len(safety))
    data = encode(tokenizer, mix)
    t0 = time.perf_counter()
    loss = train_loop(
        peft_model,
        data,
        steps=args.lora_steps,
        lr=1e-3,
        batch_size=args.batch_size,
        pad_id=pad_id,
        seed=args.seed + 1,
        log=name,
    )
    elapsed = time.perf_counter() - t0
    out = MODELS / name
    if out.exists():
        shutil.rmtree(out)
    peft_model.save_pretrained(out, safe_serialization=True)
    (out / "README.md").unlink(missing_ok=True)  # peft's empty model-card template
    tokenizer.save_pretrained(out)
    # Make the base reference portable: relative to the adapter directory.
    cfg_path = out / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = "../tiny-v1"
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    meta = {
        "variant": name,
        "base": "../tiny-v1",
        "steps": args.lora_steps,
        "lr": 1e-3,
        "r": 8,
        "safety_rows": len(safety),
        "task_rows": len(mix) - len(safety),
        "seed": args.seed,
        "final_loss": round(loss, 4),
        "train_seconds": round(elapsed, 1),
        "torch_threads": torch.get_num_threads(),
    }
    (out / "training.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"[{name}] saved to {out} in {elapsed:.0f}s (final loss {loss:.4f})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the tiny Task API models on CPU.")
    parser.add_argument(
        "--variant", choices=["v1", "v2", "lora", "lora-unsafe", "all"], default="all"
    )
    parser.add_argument("--steps", type=int, default=1600)
    parser.add_argument("--v2-steps", type=int, default=400)
    parser.add_argument("--lora-steps", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    random.seed(args.seed)

    rows = read_jsonl(HERE / "train.jsonl")
    tokenizer = build_tokenizer(rows)
    MODELS.mkdir(exist_ok=True)
    if args.variant in ("v1", "all"):
        train_full("tiny-v1", rows, tokenizer, args)
    if args.variant in ("v2", "all"):
        bugged = shift_relative_dates(rows, 1)
        train_full("tiny-v2", bugged, tokenizer, args, init_from=MODELS / "tiny-v1")
    if args.variant in ("lora", "all"):
        train_lora(rows, read_jsonl(HERE / "train_safety.jsonl"), args)
    if args.variant in ("lora-unsafe", "all"):
        train_lora(rows, compliance_rows(), args, name="tiny-v1-lora-unsafe")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
