"""The embedded generator: deterministic, GTZAN-shaped clips whose genres really differ."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf

from gtzan_kedro.datasets.audio import AudioDataset
from gtzan_kedro.sources import generator
from gtzan_kedro.sources.generator import generated_clips, synthesise_clip
from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES as GENRES

SAMPLE_RATE = 22050
SECONDS = 2.0


def _clip(genre: str, index: int = 0, *, seconds: float = SECONDS, seed: int = 0) -> np.ndarray:
    """One generated clip at the test sample rate."""
    return synthesise_clip(genre, index, seconds=seconds, sample_rate=SAMPLE_RATE, seed=seed)


def _pulse_strength(samples: np.ndarray) -> float:
    """Height of the onset envelope's autocorrelation peak at beat lags (40-200 BPM)."""
    envelope = librosa.onset.onset_strength(y=samples, sr=SAMPLE_RATE)
    envelope = envelope - envelope.mean()
    autocorrelation = np.correlate(envelope, envelope, mode="full")[envelope.size - 1 :]
    lag_seconds = np.arange(autocorrelation.size) * 512 / SAMPLE_RATE  # onset hop: 512
    beat_lags = (lag_seconds >= 60 / 200) & (lag_seconds <= 60 / 40)
    return float(autocorrelation[beat_lags].max() / autocorrelation[0])


def _percussive_share(samples: np.ndarray) -> float:
    """Fraction of the energy that harmonic/percussive separation calls percussive."""
    harmonic, percussive = librosa.effects.hpss(samples)
    return float(np.sum(percussive**2) / (np.sum(harmonic**2) + np.sum(percussive**2)))


@pytest.mark.parametrize("genre", GENRES)
def test_clip_is_float32_mono_in_range_with_the_requested_length(genre):
    samples = synthesise_clip(genre, 1, seconds=1.23456, sample_rate=SAMPLE_RATE, seed=3)

    assert samples.dtype == np.float32
    assert samples.shape == (round(1.23456 * SAMPLE_RATE),)
    assert np.all(np.abs(samples) <= 1.0)
    assert np.sqrt(np.mean(samples**2)) > 0.01  # audible, not silence


@pytest.mark.parametrize("seconds", [1 / SAMPLE_RATE, 0.05])
def test_clips_shorter_than_a_note_still_work(seconds):
    for genre in GENRES:
        samples = synthesise_clip(genre, 0, seconds=seconds, sample_rate=SAMPLE_RATE, seed=0)

        assert samples.shape == (round(seconds * SAMPLE_RATE),)
        assert np.all(np.isfinite(samples))


def test_other_sample_rates_give_the_matching_length():
    samples = synthesise_clip("metal", 0, seconds=1.5, sample_rate=8000, seed=0)

    assert samples.shape == (12000,)
    assert np.all(np.isfinite(samples))


def test_same_arguments_give_bit_identical_clips():
    np.testing.assert_array_equal(_clip("jazz", 2, seed=11), _clip("jazz", 2, seed=11))


def test_seed_and_index_change_the_clip():
    reference = _clip("pop", 0, seed=1)

    assert not np.array_equal(reference, _clip("pop", 0, seed=2))
    assert not np.array_equal(reference, _clip("pop", 1, seed=1))


def test_a_clip_does_not_depend_on_how_many_clips_are_generated():
    few = generated_clips(clips_per_genre=4, clip_seconds=SECONDS, sample_rate=SAMPLE_RATE, seed=5)
    many = generated_clips(
        clips_per_genre=10, clip_seconds=SECONDS, sample_rate=SAMPLE_RATE, seed=5
    )

    np.testing.assert_array_equal(few["rock/rock.00003.wav"](), many["rock/rock.00003.wav"]())
    np.testing.assert_array_equal(
        few["rock/rock.00003.wav"](),
        synthesise_clip("rock", 3, seconds=SECONDS, sample_rate=SAMPLE_RATE, seed=5),
    )


def test_partition_ids_follow_the_gtzan_layout_and_order():
    clips = generated_clips(
        clips_per_genre=2, clip_seconds=SECONDS, sample_rate=SAMPLE_RATE, seed=0
    )

    assert list(clips) == [
        f"{genre}/{genre}.{index:05d}.wav" for genre in GENRES for index in range(2)
    ]
    assert list(clips)[:3] == [
        "blues/blues.00000.wav",
        "blues/blues.00001.wav",
        "classical/classical.00000.wav",
    ]
    assert list(clips)[-1] == "rock/rock.00001.wav"


def test_generated_clips_synthesise_nothing_until_called(monkeypatch):
    calls = []
    monkeypatch.setattr(generator, "synthesise_clip", lambda *args, **kwargs: calls.append(args))

    clips = generated_clips(clips_per_genre=100, clip_seconds=30.0, sample_rate=SAMPLE_RATE, seed=0)
    assert len(clips) == 1000
    assert calls == []

    clips["disco/disco.00042.wav"]()
    assert calls == [("disco", 42)]


def test_unknown_genre_is_rejected_with_the_allowed_genres():
    with pytest.raises(ValueError, match="genre") as error:
        synthesise_clip("polka", 0, seconds=1.0, sample_rate=SAMPLE_RATE, seed=0)

    assert all(genre in str(error.value) for genre in GENRES)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"seconds": 0.0}, "seconds"),
        ({"seconds": -1.0}, "seconds"),
        ({"sample_rate": 0}, "sample_rate"),
        ({"seed": -1}, "seed"),
        ({"index": -1}, "index"),
    ],
)
def test_bad_clip_arguments_are_rejected_by_name(arguments, parameter):
    call = {"index": 0, "seconds": 1.0, "sample_rate": SAMPLE_RATE, "seed": 0} | arguments
    index = call.pop("index")

    with pytest.raises(ValueError, match=f"'{parameter}'"):
        synthesise_clip("blues", index, **call)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"clips_per_genre": 0}, "clips_per_genre"),
        ({"clips_per_genre": -3}, "clips_per_genre"),
        ({"clips_per_genre": 2.5}, "clips_per_genre"),
        ({"clip_seconds": 0.0}, "clip_seconds"),
        ({"sample_rate": -22050}, "sample_rate"),
    ],
)
def test_bad_dataset_sizes_are_rejected_by_name(arguments, parameter):
    call = {"clips_per_genre": 2, "clip_seconds": 1.0, "sample_rate": SAMPLE_RATE, "seed": 0}

    with pytest.raises(ValueError, match=f"'{parameter}'"):
        generated_clips(**(call | arguments))


def test_classical_has_a_weaker_pulse_and_less_percussion_than_disco():
    classical = [_clip("classical", index, seconds=3.0) for index in range(3)]
    disco = [_clip("disco", index, seconds=3.0) for index in range(3)]

    pulse = {
        name: np.median([_pulse_strength(x) for x in clips])
        for name, clips in (("classical", classical), ("disco", disco))
    }
    percussive = {
        name: np.median([_percussive_share(x) for x in clips])
        for name, clips in (("classical", classical), ("disco", disco))
    }

    assert pulse["classical"] < 0.6 * pulse["disco"]
    assert percussive["classical"] < 0.25 * percussive["disco"]


def test_metal_is_brighter_than_classical():
    def centroid(genre: str, index: int) -> float:
        return float(
            librosa.feature.spectral_centroid(y=_clip(genre, index), sr=SAMPLE_RATE).mean()
        )

    assert min(centroid("metal", index) for index in range(3)) > max(
        centroid("classical", index) for index in range(3)
    )


def test_a_saved_clip_is_a_16_bit_mono_wav_at_the_sample_rate(tmp_path):
    samples = _clip("reggae")
    path = tmp_path / "reggae" / "reggae.00000.wav"

    dataset = AudioDataset(filepath=str(path), sample_rate=SAMPLE_RATE)
    dataset.save(samples)

    info = sf.info(str(path))
    assert (info.format, info.subtype) == ("WAV", "PCM_16")
    assert (info.samplerate, info.channels, info.frames) == (SAMPLE_RATE, 1, samples.size)
    np.testing.assert_allclose(dataset.load(), samples, atol=2 / 2**15)
