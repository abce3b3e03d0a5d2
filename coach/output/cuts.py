"""Where the chunked MP3 encoder cuts a chapter: in its quietest stretch, at a place the audio itself fixes.

A cut is a frame boundary; its level is the energy of the two frames around it. Of the boundaries in a search
window, the cut is one of the quietest, and where a silence holds many equally quiet ones, a place fixed by the
silence's own extent (its middle, or for a long one a point of an even division of it), never a distance from
where the chunk began. So when an edit moves the rest of a chapter by whole frames, the cuts after it move
with the audio, the chunks between them hold the same samples, and their encoded segments are found again.
"""

from __future__ import annotations

import math

import numpy as np


def boundary_levels(pcm: np.ndarray, frame: int) -> np.ndarray:
    """For int16 PCM of k + 1 whole frames ((n,) or (n, channels)), the energy of the two frames around each of the
    k boundaries between them: boundary i sits between frame i and i + 1."""
    samples = pcm.astype(np.float32).reshape(-1, frame * (pcm.shape[1] if pcm.ndim > 1 else 1))
    energy = np.einsum("ij,ij->i", samples, samples)  # one sum per frame (of every channel)
    return energy[:-1] + energy[1:]


def choose(levels: np.ndarray, allowed: np.ndarray, window: slice, aim: int, spacing: int) -> int:
    """The index of the cut among boundaries 0..len(levels)-1, within `window` and `allowed`, nearest index `aim`
    on a tie; `spacing` (in boundaries) the most a long silence goes between the points it offers.

    The boundaries outside the window are there to show how far a silence reaches beyond it.
    """
    inside = np.zeros(levels.size, dtype=bool)
    inside[window] = True
    usable = inside & allowed
    if not usable.any():
        raise ValueError("a search window holds no allowed cut")
    quiet = levels <= levels[usable].min()
    # Runs of consecutive quiet boundaries: where each starts and stops (exclusive), from the changes in `quiet`.
    changes = np.flatnonzero(np.diff(np.concatenate([[False], quiet, [False]]).astype(np.int8)))
    options = []  # (minus the run's length, distance from the aim, cut)
    for first, stop in zip(changes[0::2].tolist(), changes[1::2].tolist()):
        run_allowed = np.flatnonzero(allowed[first:stop]) + first
        if run_allowed.size == 0:
            continue
        length = stop - first
        pieces = max(2, math.ceil(length / spacing))
        for piece in range(1, pieces):
            point = first + piece * (length - 1) // pieces
            cut = int(run_allowed[np.argmin(np.abs(run_allowed - point))])
            if inside[cut]:
                options.append((-length, abs(cut - aim), cut))
    if not options:  # every run that reaches the window has its points outside it: the quietest cut nearest the aim
        candidates = np.flatnonzero(usable & quiet)
        return int(candidates[np.argmin(np.abs(candidates - aim))])
    return min(options)[2]
