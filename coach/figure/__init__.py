"""Figures of the positions: a posed 3D skeleton drawn as SVG or PNG (pure: no I/O)."""

from coach.figure.draw import Pose, Prop, build_scene, side_pose, to_png, to_svg
from coach.figure.poses import POSES

__all__ = ["POSES", "Pose", "Prop", "build_scene", "side_pose", "to_png", "to_svg", "render"]


def render(pose: Pose, side: str | None = None, fmt: str = "svg", width: int = 480, height: int = 360):
    """A pose drawn for a side ("left", "right" or None) as SVG text or PNG bytes."""
    scene = build_scene(side_pose(pose, side), width, height)
    return to_svg(scene) if fmt == "svg" else to_png(scene)
