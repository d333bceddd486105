"""The embedded default dataset: GTZAN-shaped clips synthesised from per-genre signatures.

Each genre is a *style*: a tempo range and swing, a drum pattern and kit, a bass line, a
chord instrument, a lead instrument, scales and chord progressions, and the sound of the
recording (brightness, bus saturation, reverb, noise floor). A clip draws its tempo, key,
parts, mix and recording conditions from its style and now and then borrows an element
from a neighbouring genre (disco/pop/rock, blues/jazz/country ...), so genres overlap the
way real ones do and a classifier lands clearly above chance but short of perfect.

Every clip has its own random generator seeded from ``(seed, genre index, clip index)``:
any clip can be regenerated alone, and the same arguments give bit-identical samples.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy  # scipy.signal (a second) is loaded on first use, when a clip is synthesised

from gtzan_kedro.sources.gtzan_genres import GTZAN_GENRES
from gtzan_kedro.sources.registry import source

logger = logging.getLogger(__name__)

_STEPS_PER_BAR = 16  # sixteenth notes in a 4/4 bar: the grid every pattern is written on
_PHRASE_BARS = 4  # fills end a phrase, crashes start one
_BORROW_PROBABILITY = 0.15  # chance, per element, that a clip borrows it from a neighbour
# Note rows: start s, duration s, velocity, then one MIDI pitch per simultaneous tone.
_Notes = np.ndarray

_SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "major_pent": (0, 2, 4, 7, 9),
    "minor_pent": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
}

_CHORD_TONES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "maj7": (0, 4, 7, 11),
    "5": (0, 7, 12),
}

# One chord per bar: (semitones above the key, chord quality).
_PROGRESSIONS: dict[str, tuple[tuple[int, str], ...]] = {
    "twelve_bar": tuple((degree, "7") for degree in (0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7)),
    "quick_change": ((0, "7"), (5, "7"), (0, "7"), (7, "7")),
    "ii_v_i": ((2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")),
    "turnaround": ((0, "maj7"), (9, "m7"), (2, "m7"), (7, "7")),
    "one_four_five": ((0, "maj"), (0, "maj"), (5, "maj"), (7, "maj")),
    "two_chord": ((0, "maj"), (5, "maj")),
    "pop_axis": ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),
    "minor_vamp": ((0, "m7"), (5, "m7")),
    "dorian_vamp": ((0, "m7"), (5, "7")),
    "minor_loop": ((0, "min"), (8, "maj"), (10, "maj"), (0, "min")),
    "power_rock": ((0, "5"), (10, "5"), (5, "5"), (0, "5")),
    "power_metal": ((0, "5"), (1, "5"), (0, "5"), (6, "5")),
    "cadence": ((0, "maj"), (5, "maj"), (7, "7"), (0, "maj")),
    "minor_cadence": ((0, "min"), (5, "min"), (7, "7"), (0, "min")),
}

# Drum patterns on the sixteenth grid: x accent, o normal, g ghost, . rest.
_DRUM_PATTERNS: dict[str, dict[str, str]] = {
    "none": {},
    "four_on_floor": {
        "kick": "x...x...x...x...",
        "snare": "....x.......x...",
        "hat": "g.g.g.g.g.g.g.g.",
        "open": "..x...x...x...x.",
        "crash": "x...............",
    },
    "backbeat": {
        "kick": "x.......x.o.....",
        "snare": "....x.......x...",
        "hat": "x.o.x.o.x.o.x.o.",
        "crash": "x...............",
    },
    "backbeat_busy": {
        "kick": "x.....o.x.o.....",
        "snare": "....x..g....x...",
        "hat": "xgogxgogxgogxgog",
        "crash": "x...............",
    },
    "pop": {
        "kick": "x.....o.x.......",
        "snare": "....x.......x...",
        "hat": "ogogogogogogogog",
    },
    "backbeat_light": {
        "kick": "x.......x.......",
        "snare": "....o.......o...",
        "hat": "x.o.x.o.x.o.x.o.",
    },
    "train": {
        "kick": "x.......x.......",
        "snare": "ggogggogggogggog",
        "hat": "....x.......x...",
    },
    "shuffle": {
        "kick": "x.......x.......",
        "snare": "....x.......x...",
        "hat": "x.o.x.o.x.o.x.o.",
    },
    "swing": {
        "kick": "g.......g.......",
        "snare": "......g.......g.",
        "hat": "....o.......o...",
        "ride": "x...o.g.x...o.g.",
    },
    "boom_bap": {
        "kick": "x......x..x.....",
        "snare": "....x.......x...",
        "hat": "x.o.x.o.x.o.x.o.",
    },
    "double_kick": {
        "kick": "oooooooooooooooo",
        "snare": "....x.......x...",
        "ride": "x.o.x.o.x.o.x.o.",
        "crash": "x...............",
    },
    "blast": {
        "kick": "o.o.o.o.o.o.o.o.",
        "snare": ".o.o.o.o.o.o.o.o",
        "ride": "x.x.x.x.x.x.x.x.",
        "crash": "x...............",
    },
    "one_drop": {
        "kick": "........x.......",
        "snare": "........x.......",
        "hat": "x.o.x.o.x.o.x.o.",
    },
    "steppers": {
        "kick": "x...x...x...x...",
        "snare": "........x.......",
        "hat": "..o...o...o...o.",
    },
}

_PATTERN_LEVELS = {"x": 1.0, "o": 0.65, "g": 0.25, ".": 0.0}


@dataclass(frozen=True)
class _Kit:
    """How a drum kit sounds: kick pitch/decay, snare band/decay, hat corner/decay."""

    kick_hz: float
    kick_decay: float
    kick_click: float
    snare_hz: float
    snare_decay: float
    hat_hz: float
    hat_decay: float


_KITS: dict[str, _Kit] = {
    "acoustic": _Kit(62, 0.22, 0.3, 2000, 0.08, 6000, 0.05),
    "electronic": _Kit(52, 0.35, 0.2, 2600, 0.07, 8000, 0.03),
    "808": _Kit(45, 0.8, 0.1, 1800, 0.09, 7000, 0.03),
    "brush": _Kit(68, 0.18, 0.05, 1200, 0.15, 5000, 0.08),
    "metal": _Kit(72, 0.12, 0.9, 3200, 0.07, 5000, 0.05),
    "reggae": _Kit(55, 0.3, 0.15, 3800, 0.04, 7000, 0.04),
}


@dataclass(frozen=True)
class _Instrument:
    """How a part sounds: oscillator, envelope (s), filters (Hz), drive and modulation."""

    wave: str
    attack: float = 0.005
    decay: float = np.inf
    release: float = 0.05
    cutoff: float = 8000.0
    highpass: float = 0.0
    drive: float = 0.0  # tanh overdrive gain; 0 keeps the part clean
    vibrato: float = 0.0  # depth in semitones
    detune: float = 0.0  # second oscillator, semitones: chorus / ensemble width
    formants: bool = False  # vowel-like band-pass, for voices
    strum: float = 0.0  # delay between a chord's strings, s


@dataclass(frozen=True)
class _Grid:
    """Where sixteenth-note steps fall in time, with swing and a mid-bar start."""

    bpm: float
    swing: float  # position of the off-beat eighth within the beat (0.5 straight, 0.67 triplet)
    offset: float  # time of bar 0's downbeat, s (<= 0: the excerpt starts mid-bar)
    bars: int
    humanise: float  # std of timing jitter, s

    def time(self, steps: np.ndarray) -> np.ndarray:
        """Seconds at which (possibly fractional) global sixteenth steps fall."""
        beat, within = np.divmod(np.asarray(steps, dtype=float), 4.0)
        s = self.swing
        position = np.interp(within, [0, 1, 2, 3, 4], [0, s / 2, s, s + (1 - s) / 2, 1])
        return self.offset + (beat + position) * 60.0 / self.bpm


@dataclass(frozen=True)
class _Style:
    """A genre's signature; tuples of names are the options a clip picks from."""

    tempo: tuple[float, float]
    swing: tuple[float, float]
    drums: tuple[str, ...]
    kit: str
    bass: tuple[str, ...]
    harmony: tuple[str, ...]
    lead: tuple[str, ...]
    scales: tuple[str, ...]
    progressions: tuple[str, ...]
    mix: tuple[float, float, float, float]  # drums, bass, harmony, lead
    cutoff: tuple[float, float]  # recording low-pass (brightness), Hz
    bus_drive: tuple[float, float]  # master saturation / loudness-war compression
    reverb: tuple[float, float]  # wet fraction
    noise_db: tuple[float, float]  # noise floor relative to the mix
    humanise: float = 0.006
    fill_rate: float = 0.2
    swell: float = 0.1  # depth of slow crescendos and diminuendos
    level: tuple[float, float] = (0.35, 0.95)  # output peak: unmastered recordings are quieter


@dataclass(frozen=True)
class _Plan:
    """Every choice one clip makes before any sample is rendered."""

    style: _Style
    bpm: float
    swing: float
    drums: str
    kit: str
    bass: str
    harmony: str
    lead: str
    key: int  # MIDI pitch of the bass-register tonic
    scale: tuple[int, ...]
    chords: tuple[tuple[int, str], ...]  # bar b plays chords[b % len(chords)]
    mix: np.ndarray
    cutoff: float
    bus_drive: float
    reverb: float
    noise_db: float
    tilt: float  # gain of a high shelf, -1..1: dull or bright recording
    level: float  # output peak


_STYLES: dict[str, _Style] = {
    "blues": _Style(
        tempo=(68, 118), swing=(0.62, 0.68), drums=("shuffle",), kit="acoustic",
        bass=("boogie", "walking"), harmony=("shuffle_riff", "piano_comp"),
        lead=("harmonica", "blues_guitar"), scales=("blues",),
        progressions=("twelve_bar", "quick_change"), mix=(0.8, 0.9, 1.0, 0.8),
        cutoff=(5000, 9000), bus_drive=(0.0, 0.8), reverb=(0.1, 0.3), noise_db=(-40, -26),
        fill_rate=0.3,
    ),
    "classical": _Style(
        tempo=(48, 96), swing=(0.5, 0.5), drums=("none",), kit="acoustic",
        bass=("cello",), harmony=("strings",), lead=("violin", "flute", "arpeggio"),
        scales=("major", "harmonic_minor"), progressions=("cadence", "minor_cadence"),
        mix=(0.0, 0.7, 1.0, 0.8), cutoff=(2500, 5500), bus_drive=(0.0, 0.0),
        reverb=(0.3, 0.55), noise_db=(-60, -42), humanise=0.04, fill_rate=0.0, swell=0.6,
        level=(0.15, 0.6),
    ),
    "country": _Style(
        tempo=(88, 150), swing=(0.5, 0.58), drums=("backbeat_light", "train"), kit="acoustic",
        bass=("boom_chick",), harmony=("strum",), lead=("fiddle", "twang_lead", "vocal"),
        scales=("major_pent", "major"), progressions=("one_four_five", "two_chord"),
        mix=(0.8, 0.9, 1.0, 0.8), cutoff=(5000, 10000), bus_drive=(0.0, 0.6),
        reverb=(0.05, 0.2), noise_db=(-45, -30), fill_rate=0.25,
    ),
    "disco": _Style(
        tempo=(110, 132), swing=(0.5, 0.52), drums=("four_on_floor",), kit="electronic",
        bass=("octave",), harmony=("funk", "pad"), lead=("string_line", "vocal", "none"),
        scales=("dorian", "minor"), progressions=("dorian_vamp", "minor_vamp", "pop_axis"),
        mix=(1.0, 1.0, 0.8, 0.6), cutoff=(7000, 11000), bus_drive=(0.5, 1.5),
        reverb=(0.05, 0.2), noise_db=(-50, -35), fill_rate=0.15,
    ),
    "hiphop": _Style(
        tempo=(78, 100), swing=(0.5, 0.6), drums=("boom_bap",), kit="808",
        bass=("sub808",), harmony=("stabs",), lead=("rap",), scales=("minor", "dorian"),
        progressions=("minor_vamp", "minor_loop"), mix=(1.2, 1.1, 0.6, 0.9),
        cutoff=(5000, 10000), bus_drive=(0.5, 1.5), reverb=(0.0, 0.1), noise_db=(-40, -25),
        fill_rate=0.1,
    ),
    "jazz": _Style(
        tempo=(90, 200), swing=(0.6, 0.68), drums=("swing",), kit="brush",
        bass=("walking",), harmony=("piano_comp",), lead=("sax", "none"),
        scales=("dorian", "major"), progressions=("ii_v_i", "turnaround"),
        mix=(0.6, 1.0, 0.9, 0.9), cutoff=(4500, 8000), bus_drive=(0.0, 0.2),
        reverb=(0.15, 0.35), noise_db=(-45, -30), humanise=0.01, fill_rate=0.1,
    ),
    "metal": _Style(
        tempo=(140, 200), swing=(0.5, 0.5), drums=("double_kick", "blast"), kit="metal",
        bass=("chug",), harmony=("chug16",), lead=("shred", "none"),
        scales=("phrygian", "minor"), progressions=("power_metal", "minor_loop"),
        mix=(1.0, 0.8, 1.3, 0.6), cutoff=(9000, 11000), bus_drive=(2.0, 4.0),
        reverb=(0.05, 0.15), noise_db=(-50, -35), fill_rate=0.3,
    ),
    "pop": _Style(
        tempo=(95, 130), swing=(0.5, 0.52), drums=("pop", "backbeat_busy"),
        kit="electronic", bass=("pop_bass", "octave"), harmony=("pad", "piano_pop"),
        lead=("vocal", "synth"), scales=("major", "major_pent"),
        progressions=("pop_axis", "one_four_five"), mix=(1.0, 0.9, 0.8, 1.0),
        cutoff=(7000, 11000), bus_drive=(0.5, 1.5), reverb=(0.1, 0.25), noise_db=(-55, -40),
    ),
    "reggae": _Style(
        tempo=(60, 92), swing=(0.5, 0.58), drums=("one_drop", "steppers"), kit="reggae",
        bass=("reggae",), harmony=("skank",), lead=("vocal", "organ_line", "none"),
        scales=("major", "minor"), progressions=("two_chord", "minor_vamp"),
        mix=(0.9, 1.3, 0.8, 0.7), cutoff=(5000, 9000), bus_drive=(0.2, 0.8),
        reverb=(0.1, 0.3), noise_db=(-45, -30), fill_rate=0.15,
    ),
    "rock": _Style(
        tempo=(100, 150), swing=(0.5, 0.52), drums=("backbeat", "backbeat_busy"),
        kit="acoustic", bass=("root8",), harmony=("power8",),
        lead=("lead_guitar", "vocal", "none"), scales=("minor_pent", "major"),
        progressions=("power_rock", "one_four_five"), mix=(1.0, 0.9, 1.1, 0.7),
        cutoff=(6000, 10000), bus_drive=(1.0, 2.5), reverb=(0.05, 0.2), noise_db=(-50, -35),
        fill_rate=0.3,
    ),
}  # fmt: skip

# Genres a clip may borrow single elements from; classical stays apart, as in GTZAN.
_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "blues": ("jazz", "country", "rock"),
    "classical": (),
    "country": ("blues", "rock", "pop"),
    "disco": ("pop", "hiphop"),
    "hiphop": ("reggae", "pop", "disco"),
    "jazz": ("blues", "country"),
    "metal": ("rock",),
    "pop": ("disco", "rock", "hiphop"),
    "reggae": ("hiphop", "pop"),
    "rock": ("metal", "pop", "country", "blues"),
}

# Elements borrowed together: a drum pattern only makes sense with its tempo and feel.
_BORROWABLE: tuple[tuple[str, ...], ...] = (
    ("tempo", "swing", "drums", "kit"),
    ("bass",),
    ("harmony",),
    ("lead",),
    ("cutoff", "bus_drive", "reverb"),
)


# ----------------------------------------------------------------------------- public API


def synthesise_clip(
    genre: str, index: int, *, seconds: float, sample_rate: int, seed: int
) -> np.ndarray:
    """Return one clip: float32 mono in [-1, 1], ``round(seconds * sample_rate)`` samples.

    The samples depend only on the arguments: the clip's generator is seeded from
    ``(seed, genre index, index)``.
    """
    genre_index = _genre_index(genre)
    _require_int("index", index, minimum=0)
    _require_int("seed", seed, minimum=0)
    _require_int("sample_rate", sample_rate, minimum=1)
    _require_positive("seconds", seconds)
    n_samples = round(seconds * sample_rate)
    if n_samples < 1:
        raise ValueError(
            f"'seconds' * 'sample_rate' must give at least one sample, got {seconds} * {sample_rate}."
        )
    rng = np.random.default_rng([seed, genre_index, index])
    plan = _plan_clip(genre, rng)
    return _render(plan, n_samples, int(sample_rate), rng)


def generated_clips(
    *, clips_per_genre: int, clip_seconds: float, sample_rate: int, seed: int
) -> dict[str, Callable[[], np.ndarray]]:
    """Return lazy clips keyed by GTZAN partition id (``"blues/blues.00000.wav"`` ...).

    All ten genres, in GTZAN order; nothing is synthesised until a value is called.
    """
    _require_int("clips_per_genre", clips_per_genre, minimum=1)
    _require_positive("clip_seconds", clip_seconds)
    _require_int("sample_rate", sample_rate, minimum=1)
    _require_int("seed", seed, minimum=0)
    logger.debug(
        "Planning %d generated clips per genre (%.1f s at %d Hz, seed %d).",
        clips_per_genre,
        clip_seconds,
        sample_rate,
        seed,
    )
    return {
        f"{genre}/{genre}.{index:05d}.wav": functools.partial(
            synthesise_clip,
            genre,
            index,
            seconds=clip_seconds,
            sample_rate=sample_rate,
            seed=seed,
        )
        for genre in GTZAN_GENRES
        for index in range(int(clips_per_genre))
    }


@source("generated", labels=GTZAN_GENRES, label_noun="GTZAN genre")
def generated(
    ingestion: dict, *, seed: int, downloads: object
) -> dict[str, Callable[[], np.ndarray]]:
    """``ingestion.source: generated``: the clips ``ingestion.generator`` describes."""
    generator = ingestion["generator"]
    return generated_clips(
        clips_per_genre=generator["clips_per_genre"],
        clip_seconds=generator["clip_seconds"],
        sample_rate=generator["sample_rate"],
        seed=seed,
    )


# ------------------------------------------------------------------------------ validation


def _genre_index(genre: str) -> int:
    """Return the GTZAN label of ``genre`` or raise a ``ValueError`` listing the genres."""
    if genre not in GTZAN_GENRES:
        raise ValueError(f"Unknown 'genre' {genre!r}; expected one of: {', '.join(GTZAN_GENRES)}.")
    return GTZAN_GENRES.index(genre)


def _require_positive(name: str, value: float) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``value`` is a finite number above zero."""
    is_number = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool) or not is_number or not np.isfinite(value) or value <= 0:
        raise ValueError(f"'{name}' must be a finite number greater than 0, got {value!r}.")


def _require_int(name: str, value: int, *, minimum: int) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"'{name}' must be an integer >= {minimum}, got {value!r}.")


# -------------------------------------------------------------------------------- planning


def _plan_clip(genre: str, rng: np.random.Generator) -> _Plan:
    """Draw every per-clip choice: borrowed elements, tempo, key, parts, mix, recording."""
    own = _STYLES[genre]
    picked = {}
    for group in _BORROWABLE:
        borrow = _NEIGHBOURS[genre] and rng.random() < _BORROW_PROBABILITY
        source = _STYLES[rng.choice(_NEIGHBOURS[genre])] if borrow else own
        picked.update({field: getattr(source, field) for field in group})
    progression = _PROGRESSIONS[str(rng.choice(own.progressions))]
    start = int(rng.integers(len(progression)))  # excerpts start anywhere in the song
    chords = progression[start:] + progression[:start]
    return _Plan(
        style=own,
        bpm=float(rng.uniform(*picked["tempo"])),
        swing=float(rng.uniform(*picked["swing"])),
        drums=str(rng.choice(picked["drums"])),
        kit=picked["kit"],
        bass=str(rng.choice(picked["bass"])),
        harmony=str(rng.choice(picked["harmony"])),
        lead=str(rng.choice(picked["lead"])),
        key=int(rng.integers(36, 48)),
        scale=_SCALES[str(rng.choice(own.scales))],
        chords=chords,
        # Musicians, engineers and mastering differ from track to track.
        mix=np.asarray(own.mix) * rng.lognormal(0.0, 0.35, size=4),
        cutoff=float(rng.uniform(*picked["cutoff"])),
        bus_drive=float(rng.uniform(*picked["bus_drive"])),
        reverb=float(rng.uniform(*picked["reverb"])),
        noise_db=float(rng.uniform(*own.noise_db)),
        tilt=float(rng.uniform(-0.6, 0.6)),
        level=float(rng.uniform(*own.level)),
    )


def _grid_for(plan: _Plan, seconds: float, rng: np.random.Generator) -> _Grid:
    """Lay the bar grid over the clip, starting at a random point inside a bar."""
    bar_seconds = 4 * 60.0 / plan.bpm
    offset = -float(rng.uniform(0.0, bar_seconds))
    bars = int(np.ceil((seconds - offset) / bar_seconds)) + 1
    return _Grid(plan.bpm, plan.swing, offset, bars, plan.style.humanise)


# --------------------------------------------------------------------------------- drums


def _decay(n_samples: int, sample_rate: int, seconds: float) -> np.ndarray:
    """Exponential envelope with time constant ``seconds``."""
    return np.exp(-np.arange(n_samples) / (sample_rate * seconds))


def _filtered(
    x: np.ndarray, kind: str, corner: float | tuple[float, float], sample_rate: int, order: int = 2
) -> np.ndarray:
    """Butterworth ``kind`` filter ("lowpass", "highpass", "bandpass") with a safe corner."""
    nyquist = 0.5 * sample_rate
    corners = np.clip(np.atleast_1d(np.asarray(corner, dtype=float)), 20.0, 0.95 * nyquist)
    if corners.size > 1:  # low sample rates squeeze a band against Nyquist: keep it open
        corners[0] = min(corners[0], 0.5 * corners[1])
    return scipy.signal.sosfilt(_butterworth(order, tuple(corners), kind, sample_rate), x)


@functools.lru_cache(maxsize=256)
def _butterworth(order: int, corners: tuple[float, ...], kind: str, sample_rate: int) -> np.ndarray:
    """Second-order sections of a Butterworth filter; instruments reuse the same few designs."""
    corner = corners if len(corners) > 1 else corners[0]
    return scipy.signal.butter(order, corner, kind, fs=sample_rate, output="sos")


def _drum_templates(kit: _Kit, sample_rate: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Synthesise one hit per drum: pitched-sine kick and tom, band-passed snare, hats, cymbals."""
    sr = sample_rate
    tune = rng.uniform(0.9, 1.1)  # every drummer tunes the kit a little differently

    def noise(seconds: float) -> np.ndarray:
        return rng.standard_normal(int(seconds * sr))

    def pitched(hz: float, decay: float, seconds: float) -> np.ndarray:
        t = np.arange(int(seconds * sr)) / sr
        sweep = hz * tune * (1.0 + 2.5 * np.exp(-t / 0.02))  # the beater's pitch drop
        return np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.exp(-t / decay)

    kick = pitched(kit.kick_hz, kit.kick_decay, min(5 * kit.kick_decay, 1.5))
    kick[: int(0.004 * sr)] += kit.kick_click * noise(0.004)
    snare_noise = _filtered(noise(0.5), "bandpass", (kit.snare_hz / 2, kit.snare_hz * 2.5), sr)
    snare = 2.0 * snare_noise * _decay(snare_noise.size, sr, kit.snare_decay)
    snare[: int(0.2 * sr)] += 0.6 * pitched(190.0, 0.04, 0.2)
    hat = _filtered(noise(0.3), "highpass", kit.hat_hz, sr, order=4)
    metallic = _metallic(sr, 1.6, rng)
    return {
        "kick": kick,
        "tom": pitched(kit.kick_hz * 2.2, 0.18, 0.6),
        "snare": snare,
        "hat": 0.9 * hat * _decay(hat.size, sr, kit.hat_decay),
        "open": 0.9 * hat * _decay(hat.size, sr, 4 * kit.hat_decay),
        "ride": 0.4 * metallic * _decay(metallic.size, sr, 0.35),
        "crash": 0.8 * metallic * _decay(metallic.size, sr, 0.5),
    }


def _metallic(sample_rate: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Cymbal body: inharmonic partials plus high-passed noise."""
    t = np.arange(int(seconds * sample_rate), dtype=np.float32) / np.float32(sample_rate)
    partials = rng.uniform(3000.0, 9000.0, size=6).astype(np.float32)
    tone = np.sin(np.float32(2 * np.pi) * partials[:, None] * t).sum(axis=0) / 6
    hiss = _filtered(rng.standard_normal(t.size), "highpass", 5000.0, sample_rate, order=4)
    return 0.4 * tone + hiss


def _pattern_hits(
    pattern: str, grid: _Grid, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Times and velocities of one drum voice's pattern, repeated bar after bar."""
    levels = np.array([_PATTERN_LEVELS[char] for char in pattern])
    steps = np.arange(grid.bars * _STEPS_PER_BAR)
    velocity = np.tile(levels, grid.bars)
    keep = (velocity > 0) & (rng.random(steps.size) > 0.04)  # the odd missed hit
    steps, velocity = steps[keep], velocity[keep]
    velocity = velocity * rng.uniform(0.8, 1.1, size=steps.size)
    return grid.time(steps) + rng.normal(0.0, grid.humanise, steps.size), velocity


def _drum_hits(
    plan: _Plan, grid: _Grid, rng: np.random.Generator
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """All drum hits of the clip: the pattern, phrase-start crashes and phrase-end fills."""
    hits = {}
    for voice, pattern in _DRUM_PATTERNS[plan.drums].items():
        times, velocity = _pattern_hits(pattern, grid, rng)
        if voice == "crash":  # only on the downbeat that opens a phrase
            bar = np.round((times - grid.offset) * grid.bpm / 240.0).astype(int)
            on_phrase = (bar % _PHRASE_BARS == 0) & (rng.random(times.size) < 0.7)
            times, velocity = times[on_phrase], velocity[on_phrase]
        hits[voice] = (times, velocity)
    if plan.drums != "none":
        hits["snare"], hits["tom"] = _fills(plan, grid, rng, hits["snare"])
    return hits


def _fills(
    plan: _Plan, grid: _Grid, rng: np.random.Generator, snare: tuple[np.ndarray, np.ndarray]
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Add sixteenth-note snare/tom runs that close some phrases."""
    snare_times, snare_velocity = [snare[0]], [snare[1]]
    tom_times, tom_velocity = [], []
    for bar in range(_PHRASE_BARS - 1, grid.bars, _PHRASE_BARS):
        if rng.random() >= plan.style.fill_rate:
            continue
        steps = bar * _STEPS_PER_BAR + np.arange(rng.choice([8, 12]), _STEPS_PER_BAR)
        on_tom = rng.random(steps.size) < 0.5
        velocity = np.linspace(0.5, 1.0, steps.size)
        times = grid.time(steps)
        snare_times.append(times[~on_tom])
        snare_velocity.append(velocity[~on_tom])
        tom_times.append(times[on_tom])
        tom_velocity.append(velocity[on_tom])
    toms = (
        np.concatenate(tom_times or [np.zeros(0)]),
        np.concatenate(tom_velocity or [np.zeros(0)]),
    )
    return (np.concatenate(snare_times), np.concatenate(snare_velocity)), toms


def _place(
    template: np.ndarray, times: np.ndarray, velocity: np.ndarray, n_samples: int, sample_rate: int
) -> np.ndarray:
    """Sum ``template`` scaled by ``velocity`` at every hit time (hits before 0 ring in)."""
    out = np.zeros(n_samples + 2 * template.size)
    positions = np.round(times * sample_rate).astype(np.int64) + template.size
    # A loop over hits (tens to hundreds), each adding a whole template slice at once.
    for position, gain in zip(positions, velocity, strict=True):
        if 0 <= position < n_samples + template.size:
            out[position : position + template.size] += gain * template
    return out[template.size : template.size + n_samples]


def _drum_stem(
    plan: _Plan, grid: _Grid, n_samples: int, sample_rate: int, rng: np.random.Generator
) -> np.ndarray:
    """Render the drum kit playing the clip's pattern."""
    stem = np.zeros(n_samples)
    if plan.drums == "none":
        return stem
    templates = _drum_templates(_KITS[plan.kit], sample_rate, rng)
    for voice, (times, velocity) in _drum_hits(plan, grid, rng).items():
        if times.size:
            stem += _place(templates[voice], times, velocity, n_samples, sample_rate)
    return stem


# ------------------------------------------------------------------------- notes and parts


def _note_rows(
    grid: _Grid,
    steps: np.ndarray,
    lengths: np.ndarray | float,
    pitches: np.ndarray | float,
    velocity: np.ndarray | float,
    *,
    rng: np.random.Generator,
) -> _Notes:
    """Turn global sixteenth steps and lengths (in steps) into note rows.

    ``pitches`` is one pitch per step, or a ``(steps, tones)`` array for chords.
    """
    steps = np.asarray(steps, dtype=float)
    ends = grid.time(steps + lengths)
    starts = grid.time(steps) + rng.normal(0.0, grid.humanise, steps.size)
    durations = np.maximum(ends - starts, 0.01)
    pitches = np.asarray(pitches, dtype=float)
    if pitches.ndim < 2:  # one tone per note
        pitches = np.broadcast_to(pitches, steps.shape)[:, None]
    return np.column_stack([starts, durations, np.broadcast_to(velocity, steps.shape), pitches])


def _bar_pattern(grid: _Grid, in_bar: list[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global steps of a one-bar rhythm repeated in every bar, and each step's bar index."""
    in_bar = np.asarray(in_bar)
    bars = np.repeat(np.arange(grid.bars), in_bar.size)
    return bars * _STEPS_PER_BAR + np.tile(in_bar, grid.bars), bars


def _roots(plan: _Plan, bars: np.ndarray) -> np.ndarray:
    """Bass-register root of the chord in each given bar."""
    return plan.key + np.array([plan.chords[bar % len(plan.chords)][0] for bar in bars])


def _voiced(plan: _Plan, bar: int, tone: int) -> int:
    """Semitones above the root of the chord's ``tone``-th note, counting up through octaves."""
    tones = _CHORD_TONES[plan.chords[bar % len(plan.chords)][1]]
    octave, index = divmod(tone, len(tones))
    return 12 * octave + tones[index]


def _bass_line(kind: str, plan: _Plan, grid: _Grid, rng: np.random.Generator) -> list[_Notes]:
    """Note rows of the bass part named ``kind`` (a single monophonic voice)."""
    rhythm, intervals, length = {
        "root8": ([0, 2, 4, 6, 8, 10, 12, 14], [0] * 7 + [12], 1.7),
        "chug": (list(range(16)), [0] * 16, 0.9),
        "octave": ([0, 2, 4, 6, 8, 10, 12, 14], [0, 12] * 4, 1.2),
        "boom_chick": ([0, 8], [0, -5], 3.5),
        "boogie": ([0, 2, 4, 6, 8, 10, 12, 14], [0, 4, 7, 9, 10, 9, 7, 4], 1.7),
        "cello": ([0, 8], [0, 7], 8.0),
        "pop_bass": ([0, 3, 6, 8, 11, 14], [0, 0, 0, 0, 7, 0], 1.8),
        "reggae": ([0, 3, 6, 8, 10, 11], [0, 7, 12, 10, 7, 0], 1.8),
        "sub808": ([0, 7, 10], [-12, -12, -12], 3.0),
        "walking": ([0, 4, 8, 12], [0, 0, 0, 0], 3.6),
    }[kind]
    steps, bars = _bar_pattern(grid, rhythm)
    pitches = _roots(plan, bars) + np.tile(intervals, grid.bars)
    if kind == "walking":  # root, third, fifth, then a chromatic step into the next root
        pitches[1::4] += [_voiced(plan, bar, 1) for bar in bars[1::4]]
        pitches[2::4] += [_voiced(plan, bar, 2) for bar in bars[2::4]]
        pitches[3::4] = _roots(plan, bars[3::4] + 1) + rng.choice([-1, 1], size=grid.bars)
    if kind == "reggae":  # one-drop bass often leaves beat one empty
        keep = (steps % _STEPS_PER_BAR != 0) | (rng.random(steps.size) < 0.4)
        steps, pitches = steps[keep], pitches[keep]
    velocity = rng.uniform(0.75, 1.0, steps.size)
    return [_note_rows(grid, steps, length, pitches, velocity, rng=rng)]


def _chord_part(
    plan: _Plan,
    grid: _Grid,
    rng: np.random.Generator,
    *,
    rhythm: tuple[int, ...] | np.ndarray,
    length: float,
    register: int,
    voicing: tuple[int, ...] | None = None,
) -> list[_Notes]:
    """Chords struck on the ``rhythm`` steps of every bar: the bar's chord, or ``voicing``."""
    steps, bars = _bar_pattern(grid, rhythm)
    velocity = rng.uniform(0.6, 1.0, steps.size) * np.where(steps % 4 == 0, 1.0, 0.8)
    if voicing:
        offsets = np.tile(voicing, (steps.size, 1))
    else:  # four tones: a triad gets its root doubled an octave up
        offsets = np.array([[_voiced(plan, bar, tone) for tone in range(4)] for bar in bars])
    pitches = (_roots(plan, bars) + register)[:, None] + offsets
    return [_note_rows(grid, steps, length, pitches, velocity, rng=rng)]


_EIGHTHS = (0, 2, 4, 6, 8, 10, 12, 14)

# Chord parts: (steps struck in every bar, length in sixteenths, register above the key,
# fixed voicing in semitones or None for the chord's own tones).
_CHORD_PARTS: dict[str, tuple[tuple[int, ...], float, int, tuple[int, ...] | None]] = {
    "power8": (_EIGHTHS, 1.6, 12, (0, 7, 12)),
    "chug16": ((0, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15), 0.8, 12, (0, 7)),  # gallop
    "strum": ((4, 12), 3.0, 24, None),  # the "chick" of boom-chick
    "skank": ((2, 6, 10, 14), 0.6, 24, None),  # short chords on the off-beats
    "funk": (tuple(range(_STEPS_PER_BAR)), 0.5, 24, None),  # muted sixteenth scratching
    "piano_pop": (_EIGHTHS, 1.8, 24, None),
    "pad": ((0,), 16.0, 24, None),
    "strings": ((0,), 16.0, 24, None),
}


def _harmony(kind: str, plan: _Plan, grid: _Grid, rng: np.random.Generator) -> list[_Notes]:
    """Note rows of the chord part named ``kind``."""
    if kind == "shuffle_riff":  # the root-fifth / root-sixth boogie guitar figure
        return _chord_part(
            plan, grid, rng, rhythm=(0, 4, 8, 12), length=1.7, register=12, voicing=(0, 7)
        ) + _chord_part(
            plan, grid, rng, rhythm=(2, 6, 10, 14), length=1.7, register=12, voicing=(0, 9)
        )
    if kind in ("piano_comp", "stabs"):  # a few syncopated hits, different in every song
        hits = np.sort(rng.choice([0, 3, 6, 8, 10, 11, 14], size=3, replace=False))
        length = rng.uniform(1.5, 3.0)
        return _chord_part(plan, grid, rng, rhythm=hits, length=length, register=24)
    rhythm, length, register, voicing = _CHORD_PARTS[kind]
    return _chord_part(
        plan,
        grid,
        rng,
        rhythm=rhythm,
        length=length,
        register=register,
        voicing=voicing,
    )


def _arpeggio(plan: _Plan, grid: _Grid, rng: np.random.Generator) -> _Notes:
    """Broken chords in eighths, up and down (a piano accompaniment)."""
    steps, bars = _bar_pattern(grid, [0, 2, 4, 6, 8, 10, 12, 14])
    shape = np.array([0, 1, 2, 3, 2, 1, 2, 3])
    orders = np.tile(shape, grid.bars)
    pitches = np.array([_voiced(plan, bar, order) for bar, order in zip(bars, orders, strict=True)])
    velocity = rng.uniform(0.5, 0.9, steps.size)
    return _note_rows(grid, steps, 1.8, _roots(plan, bars) + 24 + pitches, velocity, rng=rng)


_MELODY: dict[str, tuple[int, tuple[float, ...], float]] = {
    # lead: (register above the key, note lengths in sixteenths, chance of a rest)
    "harmonica": (36, (2, 4, 6), 0.3),
    "blues_guitar": (24, (1, 2, 3), 0.3),
    "violin": (36, (4, 8, 12), 0.05),
    "flute": (36, (2, 4, 8), 0.1),
    "fiddle": (36, (1, 2), 0.1),
    "twang_lead": (24, (1, 2, 4), 0.25),
    "sax": (24, (2, 2, 2, 4), 0.2),
    "synth": (36, (2, 4), 0.25),
    "lead_guitar": (24, (1, 2, 4), 0.2),
    "shred": (24, (1,), 0.1),
    "rap": (12, (1, 1, 2), 0.25),
    "vocal": (24, (2, 4, 6), 0.25),
    "string_line": (36, (4, 8), 0.1),
    "organ_line": (24, (2, 4), 0.3),
}


def _melody(kind: str, plan: _Plan, grid: _Grid, rng: np.random.Generator) -> list[_Notes]:
    """A random walk on the clip's scale, in the rhythm of the lead named ``kind``."""
    if kind == "none":
        return []
    if kind == "arpeggio":
        return [_arpeggio(plan, grid, rng)]
    register, lengths, rest = _MELODY[kind]
    n_steps = grid.bars * _STEPS_PER_BAR
    # Enough notes to fill the clip even if every one is of the shortest length.
    durations = rng.choice(lengths, size=int(n_steps / min(lengths)) + 1)
    steps = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    inside = steps < n_steps
    steps, durations = steps[inside], durations[inside]
    moves = rng.choice([-2, -1, -1, 0, 1, 1, 2], size=steps.size)
    if kind == "rap":  # speech hovers around one pitch
        moves = rng.choice([-1, 0, 1], size=steps.size) * (rng.random(steps.size) < 0.3)
    degrees = np.clip(np.cumsum(moves), -len(plan.scale), 2 * len(plan.scale))
    octave, index = np.divmod(degrees, len(plan.scale))
    pitches = plan.key + register + 12 * octave + np.asarray(plan.scale)[index]
    sounding = rng.random(steps.size) >= rest
    velocity = rng.uniform(0.6, 1.0, steps.size)
    steps, durations, pitches = steps[sounding], durations[sounding], pitches[sounding]
    return [_note_rows(grid, steps, durations, pitches, velocity[sounding], rng=rng)]


_INSTRUMENTS: dict[str, _Instrument] = {
    # bass
    "root8": _Instrument("saw", decay=0.8, release=0.03, cutoff=900, drive=1.5),
    "chug": _Instrument("saw", decay=0.4, release=0.02, cutoff=1200, drive=3.0),
    "octave": _Instrument("square", decay=0.5, release=0.03, cutoff=1000),
    "boom_chick": _Instrument("piano", decay=0.6, release=0.05, cutoff=900),
    "boogie": _Instrument("piano", decay=0.7, release=0.05, cutoff=800),
    "walking": _Instrument("piano", decay=0.8, release=0.06, cutoff=700),
    "cello": _Instrument("saw", attack=0.15, release=0.3, cutoff=1000, vibrato=0.12),
    "pop_bass": _Instrument("square", decay=0.6, release=0.03, cutoff=800),
    "reggae": _Instrument("sine", decay=1.0, release=0.05, cutoff=600),
    "sub808": _Instrument("sine", decay=1.2, release=0.08, cutoff=400, drive=1.2),
    # chords
    "power8": _Instrument("saw", release=0.03, cutoff=5000, drive=6.0, detune=0.08),
    "chug16": _Instrument("saw", release=0.02, cutoff=7000, drive=14.0, detune=0.1),
    "shuffle_riff": _Instrument("saw", decay=0.8, release=0.05, cutoff=3000, drive=2.5),
    "piano_comp": _Instrument("piano", decay=1.0, release=0.15, cutoff=4000),
    "stabs": _Instrument("piano", decay=0.8, release=0.1, cutoff=1800),
    "strum": _Instrument("pluck", decay=1.0, release=0.1, cutoff=9000, highpass=150, strum=0.012),
    "skank": _Instrument("organ", decay=0.15, release=0.03, cutoff=6000, highpass=300),
    "funk": _Instrument("pluck", decay=0.08, release=0.02, cutoff=7000, highpass=400),
    "piano_pop": _Instrument("piano", decay=1.0, release=0.1, cutoff=6000),
    "arpeggio": _Instrument("piano", decay=1.2, release=0.3, cutoff=4000),
    "pad": _Instrument("saw", attack=0.3, release=0.5, cutoff=2500, detune=0.12),
    "strings": _Instrument("saw", attack=0.5, release=0.6, cutoff=2000, vibrato=0.1, detune=0.06),
    # leads
    "harmonica": _Instrument("square", attack=0.03, cutoff=3000, highpass=300, vibrato=0.25),
    "blues_guitar": _Instrument("saw", decay=0.9, cutoff=3500, drive=3.0, vibrato=0.2),
    "violin": _Instrument("saw", attack=0.1, release=0.2, cutoff=3500, vibrato=0.2),
    "flute": _Instrument("sine", attack=0.06, release=0.1, cutoff=5000, vibrato=0.1),
    "fiddle": _Instrument("saw", attack=0.02, cutoff=5000, vibrato=0.15),
    "twang_lead": _Instrument("pluck", decay=0.6, cutoff=9000, highpass=200),
    "sax": _Instrument("saw", attack=0.03, cutoff=2500, drive=1.0, vibrato=0.12),
    "synth": _Instrument("square", cutoff=6000, detune=0.1),
    "lead_guitar": _Instrument("saw", cutoff=6000, drive=8.0, vibrato=0.2),
    "shred": _Instrument("saw", cutoff=7000, drive=12.0, vibrato=0.15),
    "rap": _Instrument("saw", attack=0.01, release=0.03, cutoff=4000, formants=True),
    "vocal": _Instrument("saw", attack=0.04, release=0.1, cutoff=4000, vibrato=0.15, formants=True),
    "string_line": _Instrument(
        "saw", attack=0.2, release=0.3, cutoff=3000, vibrato=0.1, detune=0.1
    ),
    "organ_line": _Instrument("organ", attack=0.01, cutoff=4000),
}


# ------------------------------------------------------------------------------- synthesis


def _oscillator(wave: str, cycles: np.ndarray, since_onset: np.ndarray) -> np.ndarray:
    """Waveform ``wave`` at the given phase (in cycles); struck waves decay per harmonic."""
    # Only the phase within the cycle matters (x - floor(x) is much faster than x % 1), and
    # float32 halves the cost of what follows.
    fraction = (cycles - np.floor(cycles)).astype(np.float32)
    if wave == "saw":
        return 2 * fraction - 1
    if wave == "square":
        return np.where(fraction < 0.5, np.float32(1), np.float32(-1))
    angle = np.float32(2 * np.pi) * fraction
    if wave == "sine":
        return np.sin(angle)
    if wave == "organ":
        return np.sin(angle) + 0.5 * np.sin(2 * angle) + 0.3 * np.sin(3 * angle)
    # Struck strings: upper harmonics die faster; a pluck is brighter (twang) than a piano.
    n_harmonics, tilt, damping = (10, 1.0, 4.0) if wave == "pluck" else (7, 1.5, 2.0)
    # sin(k x) and exp(-k d t) by recurrence: far cheaper than calling sin/exp per harmonic.
    twice_cos, fade = 2 * np.cos(angle), np.exp(-damping * since_onset)
    previous, current, decay = np.zeros_like(angle), np.sin(angle), fade.copy()
    out = current * decay
    for k in range(2, n_harmonics + 1):
        previous, current = current, twice_cos * current - previous
        decay *= fade
        out += current * decay / np.float32(k**tilt)
    return out


def _render_voice(
    notes: _Notes, instrument: _Instrument, n_samples: int, sample_rate: int
) -> np.ndarray:
    """Render one voice: each note or chord sounds until its release or the next onset."""
    out = np.zeros(n_samples, dtype=np.float32)
    if notes.size == 0:
        return out
    notes = notes[np.argsort(notes[:, 0], kind="stable")]
    starts = np.round(notes[:, 0] * sample_rate).astype(np.int64)
    sample = np.arange(n_samples)
    current = np.searchsorted(starts, sample, side="right") - 1
    sounding = current >= 0
    current[~sounding] = 0
    since_onset = ((sample - starts[current]) / sample_rate).astype(np.float32)
    # Timing and envelope are shared by a chord's tones; only the pitch differs.
    envelope = _envelope(notes, current, sounding, since_onset, instrument)
    bend = 1.0
    if instrument.vibrato:  # vibrato fades in as a held note blooms
        wobble = np.sin(np.float32(2 * np.pi * 5.5 / sample_rate) * sample.astype(np.float32))
        bend = 2.0 ** (instrument.vibrato / 12.0 * wobble * np.minimum(since_onset / 0.3, 1))
    for tone, pitches in enumerate(notes[:, 3:].T):
        hz = (440.0 * 2.0 ** ((pitches - 69.0) / 12.0))[current] * bend
        # Phase accumulates in float64: over a whole clip float32 would drift audibly.
        cycles = np.cumsum(hz) / sample_rate
        sound = _oscillator(instrument.wave, cycles, since_onset)
        if instrument.detune:  # a second, slightly detuned oscillator under the same envelope
            detuned = cycles * 2.0 ** (instrument.detune / 12.0)
            sound += _oscillator(instrument.wave, detuned, since_onset)
        delay = min(round(tone * instrument.strum * sample_rate), n_samples)  # strummed strings
        out[delay:] += (sound * envelope)[: n_samples - delay]
    return out


def _envelope(
    notes: _Notes,
    current: np.ndarray,
    sounding: np.ndarray,
    since_onset: np.ndarray,
    instrument: _Instrument,
) -> np.ndarray:
    """Attack ramp, exponential decay, release after the note's end, times velocity."""
    release_at = (notes[:, 1] + instrument.release).astype(np.float32)[current]
    gate = np.clip((release_at - since_onset) / np.float32(instrument.release), 0, 1)
    envelope = np.minimum(since_onset / np.float32(instrument.attack), 1) * gate
    envelope *= np.where(sounding, notes[:, 2].astype(np.float32)[current], 0)
    if np.isfinite(instrument.decay):
        envelope *= np.exp(-since_onset / np.float32(instrument.decay))
    return envelope


def _formants(x: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Shape a buzz into a vowel with two resonances (F1, F2)."""
    first, second = rng.uniform(300.0, 800.0), rng.uniform(900.0, 2300.0)
    return _filtered(x, "bandpass", (first * 0.8, first * 1.25), sample_rate) + 0.6 * _filtered(
        x, "bandpass", (second * 0.85, second * 1.15), sample_rate
    )


def _render_part(
    voices: list[_Notes], name: str, n_samples: int, sample_rate: int, rng: np.random.Generator
) -> np.ndarray:
    """Render and process every voice of the part played on instrument ``name``."""
    instrument = _INSTRUMENTS[name]
    out = np.zeros(n_samples)
    for notes in voices:
        out += _render_voice(notes, instrument, n_samples, sample_rate)
    if instrument.formants:
        out = _formants(out, sample_rate, rng)
    if instrument.drive:
        out = np.tanh(instrument.drive * out / (np.max(np.abs(out)) + 1e-9))
    out = _filtered(out, "lowpass", instrument.cutoff, sample_rate)
    if instrument.highpass:
        out = _filtered(out, "highpass", instrument.highpass, sample_rate)
    return out


def _reverb(x: np.ndarray, wet: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Blend in a room: ``x`` convolved with exponentially decaying noise."""
    if wet <= 0:
        return x
    seconds = rng.uniform(0.4, 1.6)
    tail = rng.standard_normal(int(seconds * sample_rate)) * _decay(
        int(seconds * sample_rate), sample_rate, seconds / 6.9
    )
    tail = (tail / np.sqrt(np.sum(tail**2))).astype(np.float32)  # single precision: 2x faster
    room = scipy.signal.fftconvolve(x.astype(np.float32), tail)[: x.size]
    return (1 - wet) * x + wet * room


def _swell(n_samples: int, depth: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Slow loudness changes: a sinusoidal crescendo / diminuendo of the given depth."""
    period = rng.uniform(3.0, 8.0)
    angle = np.arange(n_samples, dtype=np.float32) * np.float32(2 * np.pi / (period * sample_rate))
    return 1.0 + depth * np.sin(angle + np.float32(rng.uniform(0, 2 * np.pi)))


def _unit_rms(x: np.ndarray) -> np.ndarray:
    """Scale ``x`` to unit RMS (silence stays silence)."""
    rms = np.sqrt(np.mean(x**2))
    return x / rms if rms > 1e-9 else x


def _render(plan: _Plan, n_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Render the planned clip: drums, bass, chords and lead, mixed and 'recorded'."""
    grid = _grid_for(plan, n_samples / sample_rate, rng)
    stems = (
        _drum_stem(plan, grid, n_samples, sample_rate, rng),
        _render_part(
            _bass_line(plan.bass, plan, grid, rng), plan.bass, n_samples, sample_rate, rng
        ),
        _render_part(
            _harmony(plan.harmony, plan, grid, rng), plan.harmony, n_samples, sample_rate, rng
        ),
        _render_part(_melody(plan.lead, plan, grid, rng), plan.lead, n_samples, sample_rate, rng)
        if plan.lead != "none"
        else np.zeros(n_samples),
    )
    mix = sum(weight * _unit_rms(stem) for weight, stem in zip(plan.mix, stems, strict=True))
    return _master(mix, plan, sample_rate, rng)


def _master(mix: np.ndarray, plan: _Plan, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Room, bus saturation, noise floor, recording EQ and output level."""
    x = _reverb(_unit_rms(mix), plan.reverb, sample_rate, rng)
    if plan.bus_drive > 0:  # loud genres are mastered hot: saturate, then renormalise
        x = np.tanh(plan.bus_drive * x / 3.0)
    x = _unit_rms(x) * _swell(x.size, plan.style.swell, sample_rate, rng)
    x = x + 10 ** (plan.noise_db / 20) * rng.standard_normal(x.size, dtype=np.float32)
    x = x + plan.tilt * _filtered(x, "highpass", 2000.0, sample_rate)
    x = _filtered(x, "lowpass", plan.cutoff, sample_rate, order=4)
    x = _filtered(x, "highpass", rng.uniform(25.0, 90.0), sample_rate)
    peak = np.max(np.abs(x))
    x = x * (plan.level / peak) if peak > 0 else x
    return np.clip(x, -1.0, 1.0).astype(np.float32)
