"""Random-weight models with the REAL shapes of the models we ship presets for, for speed and memory
benchmarks on machines where the weights cannot be downloaded.

Speed and memory depend on shapes (layers, widths, vocabulary, heads), not on weight values, so these
measure what opus-mt-id-en and Qwen2.5-0.5B cost; translation quality needs the real weights.

Tokenizers matter too (source length drives attention and padding cost), so the Marian tokenizer is a
SentencePiece model trained on the FLORES-200 devtest text (a different corpus from the NTREX sentences we
time), sized so that Indonesian news tokenizes to a realistic ~1.6 tokens per word. The Qwen shape is only a
fallback: the small GGUF from the team's shared tools (../shared/tools/get-small-llm.sh, not in this repository)
is a real model of that architecture.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from summarizer.models.tiny import build_qwen2, marian_vocab, train_sentencepiece

FLORES = Path("/work/shared/eval/flores200-devtest-id-en")

# Helsinki-NLP/opus-mt-id-en config.json: transformer-base Marian, 6+6 layers, shared 54,796 vocabulary.
OPUS_MT_ID_EN = dict(
    vocab_size=54796, d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
    decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512,
    activation_function="swish", scale_embedding=True, static_position_embeddings=True,
    share_encoder_decoder_embeddings=True,
)
# Qwen/Qwen2.5-0.5B-Instruct config.json (494M parameters, tied embeddings, grouped-query attention).
QWEN25_05B = dict(
    vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
    num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1_000_000.0,
    tie_word_embeddings=True, hidden_act="silu",
)
# The stand-in Marian tokenizer: BPE with 16k pieces per language, trained on FLORES' ~1k sentences. It
# splits the NTREX sentences we time into ~1.6 tokens per word (</s> included), close to what a
# SentencePiece model trained on far more text gives; a unigram model on so little text stops at ~4.5k
# pieces and ~2 tokens per word, which would overstate sequence lengths.
SPM_PIECES = 16000
SEED = 0


def _complete(directory: Path) -> bool:
    return (directory / "model.safetensors").exists() or (directory / "model.safetensors.index.json").exists()


def build_marian_opus_shape(out: Path) -> Path:
    """opus-mt-id-en's architecture with random weights and a FLORES-trained SentencePiece pair."""
    if _complete(out):
        return out
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lines = {lang: (FLORES / f"devtest.{lang}").read_text(encoding="utf-8").splitlines() for lang in ("ind_Latn", "eng_Latn")}
    source, target = (train_sentencepiece(lines[lang], SPM_PIECES, "bpe") for lang in ("ind_Latn", "eng_Latn"))
    (work / "source.spm").write_bytes(source)
    (work / "target.spm").write_bytes(target)
    # Every id the model can emit must decode: placeholders fill up to the real vocabulary size.
    vocab = marian_vocab(source, target, OPUS_MT_ID_EN["vocab_size"])
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    MarianTokenizer(str(work / "source.spm"), str(work / "target.spm"), str(work / "vocab.json")).save_pretrained(work)

    torch.manual_seed(SEED)
    pad = vocab["<pad>"]
    config = MarianConfig(**OPUS_MT_ID_EN, pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad,
                          forced_eos_token_id=0)
    MarianMTModel(config).eval().save_pretrained(work)
    shutil.rmtree(out, ignore_errors=True)
    work.rename(out)
    return out


def build_qwen25_shape(out: Path) -> Path:
    """Qwen2.5-0.5B's architecture with random weights, for when no real Qwen2.5 model is at hand. The
    tokenizer is the tiny test one: its ids fit the vocabulary, but prompts tokenize longer than with the
    real one and most generated ids decode to nothing, so only the speed figures mean anything."""
    if _complete(out):
        return out
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tokenizer = AutoTokenizer.from_pretrained(str(build_qwen2(work / "tokenizer-source")))
    shutil.rmtree(work / "tokenizer-source")
    tokenizer.save_pretrained(work)
    endoftext, im_end = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"])
    torch.manual_seed(SEED)
    config = Qwen2Config(**QWEN25_05B, bos_token_id=endoftext, eos_token_id=im_end, pad_token_id=endoftext)
    Qwen2ForCausalLM(config).eval().save_pretrained(work)
    shutil.rmtree(out, ignore_errors=True)
    work.rename(out)
    return out
