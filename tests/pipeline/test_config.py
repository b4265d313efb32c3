"""Pipeline files are validated on load; errors name the file, the key and what is allowed."""

from __future__ import annotations

import pytest

from textcl.config import ConfigError, PipelineConfig, load_config
from textcl.paths import PROJECT_ROOT


def write(tmp_path, text: str):
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_pipeline_file_loads_and_matches_defaults():
    config = load_config(PROJECT_ROOT / "pipelines" / "default.toml")
    assert config == PipelineConfig()
    # no fixed probe terms: probes and the drift report follow the stream's keywords
    assert config.word2vec.probe_terms == [] and config.drift.terms == []


def test_word2vec_section_matches_the_model_signature():
    import inspect

    from textcl.consumers.word2vec import Word2VecSection
    from textcl.embed.word2vec import ContinualWord2Vec

    params = inspect.signature(ContinualWord2Vec).parameters
    section = Word2VecSection()
    for key, value in section.model_kwargs().items():
        assert key in params, key
        default = params[key].default
        assert value == (list(default) if isinstance(default, tuple) else default), key


def test_values_are_applied(tmp_path):
    config = load_config(
        write(tmp_path, '[window]\nevery = "6h"\nbatch_size = 50\n[tokenizer]\nstopwords = true\n')
    )
    assert config.window.every == "6h" and config.window.batch_size == 50
    assert config.tokenizer_options().stopwords is True


def test_unknown_key_names_file_section_and_allowed_keys(tmp_path):
    path = write(tmp_path, "[tokenizer]\nlowercse = false\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and "[tokenizer]" in message and "'lowercse'" in message
    assert "allowed keys: lowercase" in message


def test_bad_literal_lists_allowed_values(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"\[source\] format = 'xml' is not allowed; "
        r"allowed values: 'auto', 'jsonl'",
    ):
        load_config(write(tmp_path, '[source]\nformat = "xml"\n'))


def test_bad_window_and_unknown_section_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match=r"\[window\] every = '1y'.*bad window"):
        load_config(write(tmp_path, '[window]\nevery = "1y"\n'))
    with pytest.raises(ConfigError, match="top level unknown key 'modle'; allowed keys: source"):
        load_config(write(tmp_path, "[modle]\nx = 1\n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[window\n"))
    with pytest.raises(ConfigError, match="no such pipeline file"):
        load_config(tmp_path / "missing.toml")


def test_tokenizer_value_checked_by_the_tokenizer_names_the_file(tmp_path):
    path = write(tmp_path, "[tokenizer]\nmin_length = -1\n")
    with pytest.raises(ConfigError, match=r"p\.toml: \[tokenizer\] invalid value -1 for option"):
        load_config(path)


def test_rate_floor_above_the_rate_names_the_section(tmp_path):
    path = write(tmp_path, "[word2vec]\nalpha = 0.01\nmin_alpha = 0.02\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg and "[word2vec] min_alpha = 0.02" in msg and "alpha (0.01)" in msg


def test_drift_compare_section_is_read(tmp_path):
    path = write(tmp_path, '[drift.compare]\nepochs = 7\ntext = "raw"\n')
    kwargs = load_config(path).drift.compare.compare_kwargs()
    assert kwargs["epochs"] == 7 and kwargs["tokenized"] is False
    assert kwargs["vector_size"] is None  # 0 = chosen from the corpus size
    with pytest.raises(ConfigError, match=r"\[drift.compare\] text = 'words' is not allowed"):
        load_config(write(tmp_path, '[drift.compare]\ntext = "words"\n'))


def test_leave_above_enter_names_the_file_and_section(tmp_path):
    path = write(tmp_path, "[keywords]\nenter = 1.0\nleave = 5.0\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and "[keywords] leave = 5.0" in str(err.value)
