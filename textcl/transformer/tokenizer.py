"""A WordPiece tokenizer trained on the stream itself (no hub download)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, CLS, SEP, MASK)


def train_wordpiece(
    texts: Iterable[str],
    vocab_size: int = 4000,
    min_frequency: int = 2,
    lowercase: bool = True,
    model_max_length: int = 512,
) -> PreTrainedTokenizerFast:
    """Build a BERT-style WordPiece tokenizer from ``texts``, deterministically.

    BERT normalisation (optionally lower-casing, accents kept), BERT pre-tokenisation
    (whitespace and punctuation), ``##`` continuation pieces, and ``[CLS] ... [SEP]``
    around each text. The vocabulary is chosen by counting, not by the ``tokenizers``
    trainer (whose ties between equally frequent merges fall differently from run to run):
    every character seen ``min_frequency`` times (alone and as ``##`` piece), then whole
    words, word prefixes and ``##`` suffixes ranked by ``count * (length - 1)`` (ties
    alphabetical) until ``vocab_size``. Special tokens take ids 0-4 in the order
    ``[PAD] [UNK] [CLS] [SEP] [MASK]``.
    """
    tok = Tokenizer(models.WordPiece({UNK: 0}, unk_token=UNK, continuing_subword_prefix="##"))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=lowercase
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words: Counter[str] = Counter()
    for text in texts:
        normal = tok.normalizer.normalize_str(str(text))
        words.update(w for w, _ in tok.pre_tokenizer.pre_tokenize_str(normal))
    chars: Counter[str] = Counter()
    pieces: Counter[str] = Counter()
    for word, count in words.items():
        chars.update({c: count for c in set(word)})
        for cut in range(2, len(word) + 1):
            pieces[word[:cut]] += count
        for cut in range(1, len(word) - 1):
            pieces["##" + word[cut:]] += count
    alphabet = sorted(c for c, n in chars.items() if n >= min_frequency)
    base = [*SPECIAL_TOKENS, *alphabet, *(f"##{c}" for c in alphabet)]
    ranked = sorted(
        (p for p, n in pieces.items() if n >= min_frequency),
        key=lambda p: (-pieces[p] * (len(p.removeprefix("##")) - 1), p),
    )
    learned = ranked[: max(vocab_size - len(base), 0)]
    vocab = {t: i for i, t in enumerate(dict.fromkeys([*base, *learned]))}
    tok.model = models.WordPiece(vocab, unk_token=UNK, continuing_subword_prefix="##")
    cls_id, sep_id = tok.token_to_id(CLS), tok.token_to_id(SEP)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{CLS} $A {SEP}",
        pair=f"{CLS} $A {SEP} $B:1 {SEP}:1",
        special_tokens=[(CLS, cls_id), (SEP, sep_id)],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token=UNK,
        pad_token=PAD,
        cls_token=CLS,
        sep_token=SEP,
        mask_token=MASK,
        model_max_length=model_max_length,
        do_lower_case=lowercase,
    )
