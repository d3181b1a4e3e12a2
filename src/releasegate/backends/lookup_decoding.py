"""Greedy decoding with prompt-lookup drafts, verified in batch (the HF backend's fast path).

Measured on a CPU: a batch of 8 rows reads every weight once per decoding step to
do very little arithmetic with it, so the step costs nearly as much for 8 rows x 5
tokens as for 8 rows x 1 token (the matrix products are bound by memory, not by
arithmetic; see docs/performance.md). This loop uses that headroom:

1. Each row guesses its next few tokens by *prompt lookup*: the most recent earlier
   place where the row's last 1-3 tokens occur in its own prompt or output, and the
   tokens that followed there (continuing the copy past the end, so a repeating
   pattern is guessed in full).
2. One forward pass feeds every row its last token and its guesses. The model's
   greedy choice at each position says how many guesses were right; a row keeps the
   right guesses plus the model's own next token, so it gains at least one token per
   step and never a token the model would not have chosen.
3. Guesses that turned out wrong are dropped from the KV cache (cropped at the end
   when every row rejected them, masked out of attention for the rows that did), and
   rows that are finished leave the batch.

The output is greedy decoding by definition: every kept token is the argmax of the
model's logits given the kept tokens before it. It is the same as ``model.generate``
up to the floating-point differences that a different batch shape already causes
(tests compare the two token for token). The loop handles models whose every cache
layer is a plain full-attention ``DynamicLayer``, no encoder, and a generation config
that adds no logits processing; ``unsupported_reason`` says why any other model
decodes with ``model.generate``.

torch and transformers are passed in (this module imports neither).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MAX_NGRAM", "draft", "lookup_greedy", "unsupported_reason"]

MAX_NGRAM = 3
"""Longest suffix of a row that is looked up (then shorter ones, down to one token)."""

PASS_TOKENS = 64
"""Most tokens one verification pass feeds (rows x (1 + guesses)). Measured on a CPU
core: 8 rows x 1 token cost 2.4 ms per token through a 20M model's matrix products,
64 rows 0.8 ms, 128 rows 0.7 ms. Past ~64 the products are bound by arithmetic, so a
guess that is rejected costs as much as a token decoded; a full batch of 64 or more
rows decodes one token per pass, and guesses start as its rows finish."""

# Generation-config fields that leave greedy decoding unchanged at these values
# (sampling fields are ignored because the loop is greedy; ids and bookkeeping are
# read elsewhere). Any other field set in the model's generation config means
# ``model.generate`` would process logits, so the loop is not used.
_NEUTRAL: dict[str, object] = {
    "num_beams": 1,
    "num_beam_groups": 1,
    "num_return_sequences": 1,
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "min_length": 0,
    "diversity_penalty": 0.0,
    "length_penalty": 1.0,
    "guidance_scale": 1.0,
    "penalty_alpha": None,
    "dola_layers": None,
    "bad_words_ids": None,
    "force_words_ids": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "sequence_bias": None,
    "min_new_tokens": None,
    "exponential_decay_length_penalty": None,
    "assistant_model": None,
    "prompt_lookup_num_tokens": None,
    "watermarking_config": None,
}
_IGNORED = {
    "do_sample",
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "typical_p",
    "epsilon_cutoff",
    "eta_cutoff",
    "bos_token_id",
    "eos_token_id",
    "pad_token_id",
    "decoder_start_token_id",
    "max_length",
    "max_new_tokens",
    "use_cache",
    "cache_implementation",
    "output_attentions",
    "output_hidden_states",
    "output_scores",
    "output_logits",
    "return_dict_in_generate",
    "renormalize_logits",
    "remove_invalid_values",
    "transformers_version",
    "_from_model_config",
}


def draft(seq: Sequence[int], k: int, max_ngram: int = MAX_NGRAM) -> list[int]:
    """Up to ``k`` guessed next tokens for ``seq`` by prompt lookup (``[]``: no match).

    The longest suffix of ``seq`` (``max_ngram`` tokens, then fewer) that also occurs
    earlier is found at its most recent earlier place; the guess is what followed it,
    copied on past the end of ``seq`` when the match is close to it (so ``a b a b``
    guesses ``a b a b ...``).
    """
    n_seq = len(seq)
    if k <= 0 or n_seq < 2:
        return []
    longest = min(max_ngram, n_seq - 1)
    best_end, best_n = -1, 0
    tail = seq[-1]
    for end in range(n_seq - 2, -1, -1):  # where an earlier occurrence would end
        if seq[end] != tail:
            continue
        n = 1
        while n < longest and n <= end and seq[end - n] == seq[n_seq - 1 - n]:
            n += 1
        if n > best_n:
            best_end, best_n = end, n
            if n == longest:
                break
    if best_n == 0:
        return []
    source = list(seq)
    for j in range(k):
        source.append(source[best_end + 1 + j])
    return source[n_seq:]


def unsupported_reason(model: Any, transformers: Any) -> str | None:
    """Why ``lookup_greedy`` cannot decode ``model`` exactly as ``generate`` would, or ``None``."""
    return _structure_reason(model, transformers) or _generation_config_reason(model)


def _structure_reason(model: Any, transformers: Any) -> str | None:
    """The model's shape: a decoder with a plain full-attention dynamic cache."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "is_encoder_decoder", False):
        return "an encoder-decoder model"
    params = inspect.signature(model.forward).parameters
    if _cache_argument(params) is None or "position_ids" not in params:
        return "its forward takes no cache and position ids"
    cache_cls = getattr(transformers, "DynamicCache", None)
    layer_cls = getattr(getattr(transformers, "cache_utils", None), "DynamicLayer", None)
    if cache_cls is None or layer_cls is None:
        return f"transformers {transformers.__version__} has no per-layer dynamic cache"
    try:
        layers = getattr(cache_cls(config=config), "layers", None)
    except Exception as exc:  # a config the cache cannot read: let generate handle it
        return f"its cache cannot be built from the config ({type(exc).__name__})"
    if not layers or any(type(layer) is not layer_cls for layer in layers):
        return "its cache has sliding-window or other non-plain layers"
    return None


def _generation_config_reason(model: Any) -> str | None:
    """A generation-config field that would make ``generate`` process the logits."""
    generation = getattr(model, "generation_config", None)
    settings = generation.to_diff_dict() if generation is not None else {}
    for key, value in sorted(settings.items()):
        if key in _IGNORED or value is None or value is False or value in ([], {}):
            continue
        if key in _NEUTRAL and value == _NEUTRAL[key]:
            continue
        if key in _NEUTRAL or not key.startswith(("output_", "return_")):
            return f"its generation config sets {key}={value!r}"
    return None


def _cache_argument(params: Any) -> str | None:
    for name in ("cache", "past_key_values"):  # transformers 5 renamed past_key_values
        if name in params:
            return name
    return None


class _Rows:
    """The batch's rows: their prompts, new tokens, and which are finished."""

    def __init__(
        self,
        prompts: list[list[int]],
        *,
        max_new_tokens: int,
        eos: set[int],
        stopped: Callable[[list[int]], bool] | None,
    ) -> None:
        self.prompts = prompts
        self.new: list[list[int]] = [[] for _ in prompts]
        self.done = [False] * len(prompts)
        self._max = max_new_tokens
        self._eos = eos
        self._stopped = stopped

    def push(self, row: int, tokens: Sequence[int]) -> None:
        """Append tokens to a row until it ends (EOS, a stop string, the token cap)."""
        for token in tokens:
            if self.done[row]:
                return
            self.new[row].append(token)
            if (
                token in self._eos
                or len(self.new[row]) >= self._max
                or (self._stopped is not None and self._stopped(self.new[row]))
            ):
                self.done[row] = True

    def remaining(self, row: int) -> int:
        return self._max - len(self.new[row])


def lookup_greedy(
    model: Any,
    torch: Any,
    transformers: Any,
    input_ids: Any,
    attention_mask: Any,
    *,
    max_new_tokens: int,
    eos_ids: Sequence[int],
    draft_tokens: int,
    stopped: Callable[[list[int]], bool] | None = None,
    on_first_token: Callable[[], None] | None = None,
) -> list[list[int]]:
    """Greedy new tokens for each row of a left-padded batch (no padding in the result).

    Args:
        model: A causal LM for which ``unsupported_reason`` is ``None``.
        torch: The torch module.
        transformers: The transformers module.
        input_ids: ``[rows, width]`` prompt ids, left padded, on the model's device.
        attention_mask: ``[rows, width]``, 0 on the padding.
        max_new_tokens: Per-row cap.
        eos_ids: Tokens that end a row (kept as its last token).
        draft_tokens: Most guesses verified per row and step (0: one token per step).
        stopped: Called with a row's new tokens after each token; ``True`` ends the row
            there (a stop string).
        on_first_token: Called once the first new token of every row exists.

    Returns:
        Each row's new tokens, ending at EOS, a stop or the cap.
    """
    width = input_ids.shape[1]
    lengths = [int(n) for n in attention_mask.sum(-1).tolist()]
    rows = _Rows(
        [input_ids[r, width - n :].tolist() for r, n in enumerate(lengths)],
        max_new_tokens=max_new_tokens,
        eos=set(eos_ids),
        stopped=stopped,
    )
    batch = _Batch(model, torch, transformers, attention_mask)
    first = batch.forward(input_ids, batch.positions(attention_mask), 1)
    if on_first_token is not None:
        on_first_token()
    last = {r: pred[0] for r, pred in enumerate(first)}
    for r, token in last.items():
        rows.push(r, [token])
    while True:
        alive = [r for r in batch.active if not rows.done[r]]
        if not batch.keep(alive):
            break
        room = PASS_TOKENS // len(batch.active) - 1
        budget = max(rows.remaining(r) for r in alive) - 1
        k = max(0, min(draft_tokens, room, budget))
        guessed = {r: draft(rows.prompts[r] + rows.new[r], k) for r in alive} if k else {}
        if guessed:
            k = min(k, _median_low([len(g) for g in guessed.values()]))
        guesses = [(guessed.get(r, []) + [last[r]] * k)[:k] for r in batch.active]
        preds = batch.verify([[last[r], *g] for r, g in zip(batch.active, guesses, strict=True)])
        accepted = [_agree(p, g) for p, g in zip(preds, guesses, strict=True)]
        batch.settle(k, accepted)
        for r, p, g, a in zip(batch.active, preds, guesses, accepted, strict=True):
            rows.push(r, [*g[:a], p[a]])
            last[r] = p[a]
    return rows.new


class _Batch:
    """The rows still decoding: their KV cache, attention mask and last positions."""

    def __init__(self, model: Any, torch: Any, transformers: Any, attention_mask: Any) -> None:
        params = inspect.signature(model.forward).parameters
        self._model = model
        self._torch = torch
        cache_arg = _cache_argument(params)
        if cache_arg is None:
            raise ValueError("lookup_greedy needs a model whose forward takes a cache")
        self._cache_arg = cache_arg
        self._keep_logits = "logits_to_keep" in params
        self._device = attention_mask.device
        self._cache = transformers.DynamicCache(config=model.config)
        self.mask = attention_mask
        self.last_pos = self.positions(attention_mask)[:, -1]
        self.active = list(range(attention_mask.shape[0]))

    @staticmethod
    def positions(mask: Any) -> Any:
        """Position ids as ``generate`` makes them for left padding."""
        return (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)

    def forward(self, ids: Any, pos: Any, keep: int) -> list[list[int]]:
        """Feed ``ids`` at ``pos``; the greedy choice at each of the last ``keep`` positions."""
        kwargs: dict[str, Any] = {self._cache_arg: self._cache}
        if self._keep_logits:
            kwargs["logits_to_keep"] = keep
        out = self._model(
            input_ids=ids, attention_mask=self.mask, position_ids=pos, use_cache=True, **kwargs
        )
        return list(out.logits[:, -keep:, :].argmax(-1).tolist())

    def keep(self, rows: list[int]) -> bool:
        """Drop the finished rows once they are a quarter of the batch; whether any is left.

        (Each drop copies the whole cache; until then a finished row costs one token a pass.)
        """
        if not rows:
            return False
        if 4 * (len(self.active) - len(rows)) < len(self.active):
            return True
        if len(rows) < len(self.active):
            index = self._torch.tensor(
                [self.active.index(r) for r in rows], dtype=self._torch.long, device=self._device
            )
            self._cache.batch_select_indices(index)
            self.mask, self.last_pos = self.mask[index], self.last_pos[index]
            self.active = rows
        return bool(rows)

    def verify(self, steps: list[list[int]]) -> list[list[int]]:
        """Feed each row its last token and its guesses; the model's choice after each."""
        torch = self._torch
        width = len(steps[0])
        ids = torch.tensor(steps, dtype=torch.long, device=self._device)
        self.mask = torch.cat([self.mask, self.mask.new_ones((len(steps), width))], dim=1)
        pos = self.last_pos.unsqueeze(1) + 1 + torch.arange(width, device=self._device)
        return self.forward(ids, pos, width)

    def settle(self, k: int, accepted: list[int]) -> None:
        """Forget the rejected guesses: cropped where every row rejected them, else masked."""
        most = max(accepted)
        if most < k:
            self._cache.crop(-(k - most))
            self.mask = self.mask[:, : self.mask.shape[1] - (k - most)]
        start = self.mask.shape[1] - most  # the column of this step's first guess
        for i, a in enumerate(accepted):
            if a < most:  # this row's rejected guesses stay in the cache, never attended
                self.mask[i, start + a :] = 0
        self.last_pos = self.last_pos + 1 + self._torch.tensor(accepted, device=self._device)


def _agree(preds: list[int], guesses: list[int]) -> int:
    """How many leading guesses equal the model's own choices."""
    n = 0
    while n < len(guesses) and preds[n] == guesses[n]:
        n += 1
    return n


def _median_low(values: list[int]) -> int:
    """The lower median: half the rows guess at least this far (the verified length)."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]
