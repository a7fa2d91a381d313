"""Real-architecture, random-weight models small enough to build in seconds, for tests and benchmarks.

Every builder writes a directory the product loads exactly like a downloaded model: real tokenizers trained
on the project's own fixture text (tiny_corpus/ next to this file), real configs, safetensors weights.
Weights are random (fixed seeds), so outputs are gibberish but deterministic: tests check plumbing (order,
batching, special tokens, caching), never translation quality.

Why here: tests and bench/ both build these models, and building them needs torch and transformers,
which only summarizer/models (the inference boundary) may import. The product never calls this module,
and importing it imports nothing heavy (every model library is imported inside a function).

    python -m summarizer.models.tiny OUT_DIR     # build them all
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "tiny_corpus"

# A Qwen-style ChatML template (system prompt defaulted like Qwen2.5's), enough for apply_chat_template.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if loop.first and message['role'] != 'system' %}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
CHATML_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Weight scale of the random models. With the usual 0.02 a 1-layer model emits the same tokens whatever
# the input; at 1.0 outputs depend on the input, so tests can tell batch rows apart (order, caching).
RANDOM_WEIGHT_STD = 1.0

# The encoder-decoder models (Marian, NLLB, M2M100): one layer a side, width 32.
SEQ2SEQ_SIZE = dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                    decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, init_std=RANDOM_WEIGHT_STD)


def corpus_lines(language: str | None = None) -> list[str]:
    """Fixture sentences: "id", "en", or both languages when None."""
    names = [f"{language}.txt"] if language else ["id.txt", "en.txt"]
    return [line for name in names for line in (CORPUS_DIR / name).read_text(encoding="utf-8").splitlines() if line]


def train_sentencepiece(lines: list[str], vocab_size: int, model_type: str) -> bytes:
    """A SentencePiece model trained on `lines`, deterministically (one thread)."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=1.0,
        hard_vocab_limit=False,  # the corpus is tiny: take what it supports
        num_threads=1,  # one thread keeps training deterministic
        minloglevel=2,
    )
    return model.getvalue()


def pieces(spm_model: bytes) -> list[tuple[str, float]]:
    """Normal (non-control, non-unknown) pieces of a SentencePiece model with their scores."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=spm_model)
    return [
        (processor.id_to_piece(i), processor.get_score(i))
        for i in range(processor.get_piece_size())
        if not (processor.is_control(i) or processor.is_unknown(i))
    ]


def _fairseq_vocab(spm_model: bytes) -> dict[str, int]:
    """The fairseq layout NLLB/M2M100 use: <s> <pad> </s> <unk>, then the SentencePiece pieces."""
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece, _ in pieces(spm_model):
        vocab.setdefault(piece, len(vocab))
    return vocab


def marian_vocab(source_spm: bytes, target_spm: bytes, size: int | None = None) -> dict[str, int]:
    """opus-mt's layout: one vocabulary shared by both sides, </s> first, <pad> last. With `size`, placeholder
    pieces (decoded verbatim) fill it up to that many ids, so every id a model of that size emits decodes."""
    vocab = {"</s>": 0, "<unk>": 1}
    for piece, _ in pieces(source_spm) + pieces(target_spm):
        vocab.setdefault(piece, len(vocab))
    while size and len(vocab) < size - 1:
        vocab[f"<unused{len(vocab)}>"] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def build_marian(out: Path) -> Path:
    """A 1-layer, d_model 32 MarianMT with opus-mt's file layout (source.spm, target.spm, vocab.json)."""
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out.mkdir(parents=True, exist_ok=True)
    source_spm = train_sentencepiece(corpus_lines("id"), 250, "unigram")
    target_spm = train_sentencepiece(corpus_lines("en"), 250, "unigram")
    (out / "source.spm").write_bytes(source_spm)
    (out / "target.spm").write_bytes(target_spm)
    vocab = marian_vocab(source_spm, target_spm)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")

    tokenizer = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"), str(out / "vocab.json"))
    tokenizer.save_pretrained(out)
    _seed(0)
    config = MarianConfig(
        vocab_size=len(vocab),
        **SEQ2SEQ_SIZE,
        max_position_embeddings=512,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=vocab["</s>"],
    )
    model = MarianMTModel(config).eval()
    # opus-mt ships beam search and a 512 max_length in its generation config; backends must override both.
    model.generation_config.update(num_beams=4, max_length=512, bad_words_ids=[[vocab["<pad>"]]])
    model.save_pretrained(out)
    return out


def _build_m2m100_model(out: Path, vocab_size: int, pad_id: int, eos_id: int, seed: int) -> None:
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    _seed(seed)
    config = M2M100Config(
        vocab_size=vocab_size,
        **SEQ2SEQ_SIZE,
        max_position_embeddings=256,
        pad_token_id=pad_id,
        bos_token_id=0,
        eos_token_id=eos_id,
        decoder_start_token_id=eos_id,
    )
    M2M100ForConditionalGeneration(config).eval().save_pretrained(out)


def build_nllb(out: Path) -> Path:
    """A tiny M2M100-architecture model with an NllbTokenizer (BPE from a SentencePiece model, FLORES-200
    language codes), so src_lang/forced_bos_token_id behave as with facebook/nllb-200-*."""
    from transformers import NllbTokenizer
    from transformers.tokenization_utils_base import generate_merges

    out.mkdir(parents=True, exist_ok=True)
    spm_model = train_sentencepiece(corpus_lines(), 300, "bpe")
    vocab = _fairseq_vocab(spm_model)
    # NllbTokenizer is a tokenizers-library BPE: recover merges from the SentencePiece scores (this
    # avoids transformers' protobuf-based converter).
    merges = generate_merges(vocab, dict(pieces(spm_model)))
    tokenizer = NllbTokenizer(vocab=vocab, merges=merges, src_lang="ind_Latn", tgt_lang="eng_Latn")
    tokenizer.save_pretrained(out)
    _build_m2m100_model(out, len(tokenizer), tokenizer.pad_token_id, tokenizer.eos_token_id, seed=1)
    return out


def build_m2m100(out: Path) -> Path:
    """A tiny M2M100 with the real M2M100Tokenizer layout (vocab.json + sentencepiece.bpe.model,
    language tokens __id__/__en__ appended after the vocabulary)."""
    from transformers import M2M100Tokenizer

    out.mkdir(parents=True, exist_ok=True)
    spm_model = train_sentencepiece(corpus_lines(), 300, "bpe")
    (out / "sentencepiece.bpe.model").write_bytes(spm_model)
    (out / "vocab.json").write_text(json.dumps(_fairseq_vocab(spm_model), ensure_ascii=False), encoding="utf-8")
    tokenizer = M2M100Tokenizer(
        vocab_file=str(out / "vocab.json"), spm_file=str(out / "sentencepiece.bpe.model"), src_lang="id", tgt_lang="en"
    )
    tokenizer.save_pretrained(out)
    # Language and "madeup" tokens live past the vocabulary; the embedding must cover them.
    vocab_size = tokenizer.encoder_size + len(tokenizer.lang_token_to_id) + tokenizer.num_madeup_words
    _build_m2m100_model(out, vocab_size, tokenizer.pad_token_id, tokenizer.eos_token_id, seed=2)
    return out


def _train_byte_level_bpe(lines: list[str], vocab_size: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Byte-level BPE with Qwen2's pre-tokenizer split, trained on `lines`."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    bpe.train_from_iterator(lines, trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return dict(model["vocab"]), merges


def build_qwen2(out: Path, context_length: int = 2048) -> Path:
    """A 2-layer, hidden 32 Qwen2 causal LM with a ChatML chat template and eos <|im_end|>.

    Its byte-level BPE, trained on a few hundred lines, spends ~2,200 tokens on the summary prompt: a
    `context_length` of 32768 (Qwen2.5's) lets the product's own context arithmetic run it end to end."""
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer

    out.mkdir(parents=True, exist_ok=True)
    vocab, merges = _train_byte_level_bpe(corpus_lines(), 600)
    for token in CHATML_SPECIAL_TOKENS:
        vocab[token] = len(vocab)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=CHATML_SPECIAL_TOKENS[1:],
        chat_template=CHATML_TEMPLATE,
    )
    tokenizer.save_pretrained(out)
    _seed(3)
    config = Qwen2Config(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=context_length,
        rms_norm_eps=1e-6,
        rope_theta=1_000_000.0,
        tie_word_embeddings=False,
        bos_token_id=vocab["<|endoftext|>"],
        eos_token_id=vocab["<|im_end|>"],
        pad_token_id=vocab["<|endoftext|>"],
        initializer_range=RANDOM_WEIGHT_STD,
    )
    model = Qwen2ForCausalLM(config).eval()
    # Qwen2.5-Instruct ships sampling defaults; backends must override them to stay deterministic.
    model.generation_config.update(
        do_sample=True, temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05,
        eos_token_id=[vocab["<|im_end|>"], vocab["<|endoftext|>"]],
    )
    model.save_pretrained(out)
    return out


def write_gguf_from_qwen2(qwen2_dir: Path, gguf_path: Path) -> Path:
    """Write `qwen2_dir` (from build_qwen2) as an F32 GGUF the way llama.cpp's converter lays it out:
    qwen2 architecture keys, llama.cpp tensor names, a gpt2-style tokenizer (tokens, types, merges)
    and the chat template, so transformers' GGUF loader rebuilds the same model and tokenizer."""
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((qwen2_dir / "config.json").read_text())
    tokenizer_json = json.loads((qwen2_dir / "tokenizer.json").read_text())
    added = {token["content"]: token["id"] for token in tokenizer_json["added_tokens"]}
    ids = {**tokenizer_json["model"]["vocab"], **added}
    tokens = [token for token, _ in sorted(ids.items(), key=lambda item: item[1])]
    assert len(tokens) == config["vocab_size"], "token ids must be dense"
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer_json["model"]["merges"]]
    rope_theta = config.get("rope_theta") or config["rope_parameters"]["rope_theta"]

    gguf_path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(gguf_path), "qwen2")
    writer.add_name("tiny-qwen2")
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_rope_freq_base(rope_theta)
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in added else gguf.TokenType.NORMAL for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(added["<|endoftext|>"])
    writer.add_eos_token_id(added["<|im_end|>"])
    writer.add_pad_token_id(added["<|endoftext|>"])
    writer.add_add_bos_token(False)
    writer.add_chat_template((qwen2_dir / "chat_template.jinja").read_text())

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, config["num_hidden_layers"])
    for name, array in sorted(load_file(qwen2_dir / "model.safetensors").items()):
        gguf_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        assert gguf_name, f"no GGUF name for {name}"
        writer.add_tensor(gguf_name, array.astype("float32"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return gguf_path


def build_gguf(out_dir: Path, qwen2_dir: Path | None = None) -> Path:
    """A tiny Qwen2 as `out_dir/tiny-qwen2.gguf` (builds the Qwen2 directory first if not given). Both
    backends load it: transformers' GGUF reader and llama.cpp."""
    qwen2_dir = qwen2_dir or build_qwen2(out_dir / "qwen2-source")
    return write_gguf_from_qwen2(qwen2_dir, out_dir / "tiny-qwen2.gguf")


def build_pickle_only(out: Path, qwen2_dir: Path) -> Path:
    """A copy of the tiny Qwen2 whose weights are only a pickled pytorch_model.bin (for refusal tests)."""
    import shutil

    import torch
    from safetensors.torch import load_file

    out.mkdir(parents=True, exist_ok=True)
    for path in qwen2_dir.iterdir():
        if path.suffix != ".safetensors":
            shutil.copy2(path, out / path.name)
    torch.save(load_file(qwen2_dir / "model.safetensors"), out / "pytorch_model.bin")
    return out


def install_in_hub_cache(model_dir: Path, repo_id: str, commit: str, hub_cache: Path, refs: tuple[str, ...] = ("main",)) -> Path:
    """Copy `model_dir` into a Hugging Face hub cache layout as `repo_id` at `commit` (refs point at it),
    as `summarizer models pull` would leave it. Returns the snapshot directory."""
    import shutil

    repo_dir = Path(hub_cache) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo_dir / "snapshots" / commit
    shutil.copytree(model_dir, snapshot, dirs_exist_ok=True)
    for ref in refs:  # a ref may contain slashes (refs/pr/1)
        (repo_dir / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (repo_dir / "refs" / ref).write_text(commit)
    return snapshot


def build_all(root: Path) -> dict[str, Path]:
    """Build every tiny model under `root`; returns name -> path."""
    root = Path(root)
    qwen2 = build_qwen2(root / "qwen2")
    return {
        "marian": build_marian(root / "marian"),
        "nllb": build_nllb(root / "nllb"),
        "m2m100": build_m2m100(root / "m2m100"),
        "qwen2": qwen2,
        "gguf": build_gguf(root / "gguf", qwen2),
        "pickle_only": build_pickle_only(root / "pickle-only", qwen2),
    }


if __name__ == "__main__":
    for name, path in build_all(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-models")).items():
        print(f"{name}\t{path}")
