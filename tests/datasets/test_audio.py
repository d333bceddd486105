"""The audio datasets: decoding, resampling, downmixing, saving and bad files."""

import os
from pathlib import Path

import fsspec
import numpy as np
import pytest
import soundfile as sf
from kedro.io import DatasetError

from gtzan_kedro import audio_decoding
from gtzan_kedro.audio_decoding import decode_audio
from gtzan_kedro.datasets import AudioDataset, AudioMetadataDataset
from gtzan_kedro.datasets._fs import write_atomically
from gtzan_kedro.datasets.audio_files import AudioFilesDataset
from tests.conftest import SAMPLE_RATE, deadline, tone


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


def test_metadata_reads_the_header_only_never_the_audio(tmp_path: Path, write_clip, monkeypatch):
    path = write_clip(tmp_path / "clip.wav", tone(440.0, seconds=3.0))

    def no_decoding(*args, **kwargs):
        raise AssertionError("the audio data was decoded")

    monkeypatch.setattr(sf.SoundFile, "read", no_decoding)
    monkeypatch.setattr(sf.SoundFile, "blocks", no_decoding)
    header = AudioMetadataDataset(filepath=str(path)).load()

    assert header["duration_s"] == pytest.approx(3.0)
    assert header["truncated"] is False


def test_metadata_of_a_file_whose_audio_is_garbage_but_header_fine(tmp_path: Path, write_clip):
    path = write_clip(tmp_path / "clip.au", tone(440.0, seconds=1.0), audio_format="AU")
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    path.write_bytes(bytes(data))

    assert AudioMetadataDataset(filepath=str(path)).load()["frames"] == SAMPLE_RATE


@pytest.mark.parametrize("audio_format", ["WAV", "AU"])
def test_metadata_reports_a_file_cut_short(tmp_path: Path, write_clip, audio_format):
    path = write_clip(
        tmp_path / f"cut.{audio_format.lower()}", tone(440.0, 2.0), audio_format=audio_format
    )
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    header = AudioMetadataDataset(filepath=str(path)).load()

    assert header["truncated"] is True
    assert "header promises 88200 bytes" in header["problem"]


def test_clip_longer_than_the_limit_is_refused_before_decoding(
    tmp_path: Path, write_clip, monkeypatch
):
    path = write_clip(tmp_path / "long.flac", tone(440.0, 3.0), audio_format="FLAC")
    monkeypatch.setattr(sf.SoundFile, "blocks", lambda *a, **k: pytest.fail("decoded"))

    with pytest.raises(DatasetError) as refused:
        AudioDataset(filepath=str(path), max_seconds=2).load()

    message = str(refused.value)
    assert "long.flac" in message and "3 s" in message and "2 s" in message
    assert "Raise max_seconds" in message and "\n" not in message


def test_decode_audio_names_the_parameter_to_raise(tmp_path: Path, write_clip):
    encoded = write_clip(tmp_path / "a.wav", tone(440.0, 1.5)).read_bytes()

    with pytest.raises(DatasetError, match=r"'song\.wav'.*Raise inference\.max_seconds"):
        decode_audio(
            encoded, "song.wav", SAMPLE_RATE, max_seconds=1, limit_name="inference.max_seconds"
        )
    assert len(decode_audio(encoded, "song.wav", SAMPLE_RATE)) == int(1.5 * SAMPLE_RATE)


def test_long_stereo_file_is_decoded_block_by_block_like_a_whole_read(
    tmp_path: Path, write_clip, monkeypatch
):
    monkeypatch.setattr(audio_decoding, "BLOCK_FRAMES", 1000)
    left, right = tone(300.0, 1.0), tone(500.0, 1.0)
    path = write_clip(tmp_path / "stereo.wav", np.stack([left, right], axis=1))
    whole, _ = sf.read(path, dtype="float32")

    mono = AudioDataset(filepath=str(path)).load()
    both = AudioDataset(filepath=str(path), mono=False).load()

    np.testing.assert_allclose(mono, whole.mean(axis=1), atol=1e-6)
    np.testing.assert_array_equal(both, whole.T)


def test_files_to_classify_longer_than_the_limit_get_one_line_naming_the_parameter(
    tmp_path: Path, write_clip
):
    long_clip = write_clip(tmp_path / "long.wav", tone(440.0, 3.0))
    short_clip = write_clip(tmp_path / "short.wav", tone(440.0, 1.0))

    loaders = AudioFilesDataset(filepaths=[str(long_clip), str(short_clip)], max_seconds=2).load()

    with pytest.raises(DatasetError, match=r"long\.wav.*Raise inference\.max_seconds"):
        loaders[str(long_clip)]()
    assert len(loaders[str(short_clip)]()) == SAMPLE_RATE


def test_clip_with_more_samples_than_the_limit_allows_is_refused(tmp_path: Path, write_clip):
    # 1 s, within a 1.5 s limit, but 16 channels: more samples than 1.5 s of 96 kHz stereo.
    many_channels = np.tile(tone(440.0, 1.0)[:, None], (1, 16))
    encoded = write_clip(tmp_path / "sixteen.wav", many_channels).read_bytes()

    with pytest.raises(DatasetError, match=r"'sixteen\.wav' holds 352800 samples \(16 channels"):
        decode_audio(encoded, "sixteen.wav", SAMPLE_RATE, max_seconds=1.5)
    assert decode_audio(encoded, "sixteen.wav", SAMPLE_RATE, max_seconds=2).shape == (SAMPLE_RATE,)


def test_files_to_classify_that_are_not_regular_files_are_refused_without_blocking(
    tmp_path: Path,
):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)  # reading it would wait forever for a writer
    dangling = tmp_path / "moved.wav"
    dangling.symlink_to(tmp_path / "elsewhere.wav")
    entries = [str(fifo), "/dev/zero", str(dangling)]

    with deadline(30):
        loaders = AudioFilesDataset(filepaths=entries).load()
        errors = {}
        for entry, load in loaders.items():
            with pytest.raises(DatasetError) as error:
                load()
            errors[entry] = str(error.value)

    assert errors[str(fifo)] == (
        f"Audio file '{fifo}' is a named pipe (FIFO), not a regular file: skipped; "
        "copy the audio into a regular file."
    )
    assert "is a character device, not a regular file" in errors["/dev/zero"]
    assert (
        f"is a symbolic link to '{tmp_path / 'elsewhere.wav'}', which does not exist"
        in (errors[str(dangling)])
    )
    assert all("\n" not in message for message in errors.values())
