"""The audio datasets: decoding, resampling, downmixing, saving and bad files."""

from pathlib import Path

import fsspec
import numpy as np
import pytest
import soundfile as sf
from kedro.io import DatasetError

from gtzan_kedro.datasets import AudioDataset, AudioMetadataDataset
from gtzan_kedro.datasets._fs import write_atomically
from tests.conftest import SAMPLE_RATE, tone


def dominant_frequency(samples: np.ndarray, sample_rate: int) -> float:
    """Return the frequency of the strongest FFT bin."""
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / sample_rate)[spectrum.argmax()])


def test_wav_round_trip_writes_16_bit_mono_and_reads_float32(tmp_path: Path):
    path = tmp_path / "blues" / "blues.00000.wav"
    samples = tone(440.0, seconds=1.0)
    AudioDataset(filepath=str(path), sample_rate=SAMPLE_RATE).save(samples)

    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (
        SAMPLE_RATE,
        1,
        "PCM_16",
        "WAV",
    )
    loaded = AudioDataset(filepath=str(path), sample_rate=SAMPLE_RATE).load()
    assert loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, samples, atol=1 / 2**14)


def test_au_file_is_decoded(tmp_path: Path, write_clip):
    path = write_clip(tmp_path / "jazz.00001.au", tone(330.0, seconds=1.0), audio_format="AU")

    loaded = AudioDataset(filepath=str(path)).load()

    assert loaded.shape == (SAMPLE_RATE,)
    assert dominant_frequency(loaded, SAMPLE_RATE) == pytest.approx(330.0, abs=2)


def test_stereo_at_another_rate_is_downmixed_and_resampled(tmp_path: Path, write_clip):
    left, right = tone(440.0, 1.0, 44100), tone(440.0, 1.0, 44100) * 0.5
    path = write_clip(tmp_path / "stereo.wav", np.stack([left, right], axis=1), sample_rate=44100)

    loaded = AudioDataset(filepath=str(path), sample_rate=SAMPLE_RATE).load()

    assert loaded.ndim == 1 and loaded.dtype == np.float32
    assert len(loaded) == pytest.approx(SAMPLE_RATE, abs=2)
    assert dominant_frequency(loaded, SAMPLE_RATE) == pytest.approx(440.0, abs=2)
    # The mean of both channels: 0.75 of the left channel's amplitude.
    assert np.abs(loaded).max() == pytest.approx(0.3 * 0.75, rel=0.05)


def test_corrupt_file_names_the_file(tmp_path: Path):
    path = tmp_path / "jazz.00054.wav"
    path.write_bytes(b"RIFF\x00\x00not really a wave file" * 10)

    with pytest.raises(DatasetError, match=r"jazz\.00054\.wav"):
        AudioDataset(filepath=str(path)).load()
    with pytest.raises(DatasetError, match=r"jazz\.00054\.wav"):
        AudioMetadataDataset(filepath=str(path)).load()


def test_empty_file_says_it_is_empty(tmp_path: Path):
    path = tmp_path / "empty.wav"
    path.touch()

    with pytest.raises(DatasetError, match=r"empty\.wav.*empty"):
        AudioDataset(filepath=str(path)).load()


def test_encoded_bytes_are_saved_unchanged(tmp_path: Path, write_clip):
    source = write_clip(tmp_path / "source.au", tone(200.0, 0.5), audio_format="AU")
    target = tmp_path / "copy" / "source.au"

    AudioDataset(filepath=str(target)).save(source.read_bytes())

    assert target.read_bytes() == source.read_bytes()


def test_write_interrupted_half_way_keeps_the_existing_file(tmp_path: Path):
    path = tmp_path / "clip.wav"
    AudioDataset(filepath=str(path)).save(tone(440.0, 0.5))
    before = path.read_bytes()

    def write_then_fail(stream):
        stream.write(b"half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(fsspec.filesystem("file"), str(path), write_then_fail)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.wav"]


def test_metadata_reads_the_header(tmp_path: Path, write_clip):
    path = write_clip(
        tmp_path / "clip.wav", np.zeros((44100, 2), dtype=np.float32), sample_rate=44100
    )

    header = AudioMetadataDataset(filepath=str(path)).load()

    assert header["sample_rate"] == 44100
    assert header["channels"] == 2
    assert header["duration_s"] == pytest.approx(1.0)
