"""Figures of the positions: a posed 3D skeleton drawn as SVG or PNG (pure: no I/O)."""

from coach.figure.draw import Pose, Prop, build_scene, side_pose, to_png, to_svg
from coach.figure.poses import POSES

__all__ = ["POSES", "Pose", "Prop", "build_scene", "pose_with", "posed", "side_pose", "to_png", "to_svg", "render"]


def pose_with(name: str | None, angles: tuple[tuple[str, str, float], ...] = ()) -> Pose:
    """The library's pose `name` (a standing figure when None) with the given (joint, dof, degrees) set over it."""
    import dataclasses

    base = POSES[name or "stand"]
    if not angles:
        return base
    changed = {joint: dict(dofs) for joint, dofs in base.angles.items()}
    for joint, dof, value in angles:
        changed.setdefault(joint, {})[dof] = value
    return dataclasses.replace(base, name=name or "custom", angles=changed, floor=base.floor if name else ())


def posed(name: str | None, angles: tuple[tuple[str, str, float], ...] = (), mirrored: bool = False) -> Pose:
    """A figure's pose as shown: the library's pose with its angles set over it, mirrored for the right side."""
    return side_pose(pose_with(name, angles), "right" if mirrored else None)


def render(pose: Pose, side: str | None = None, fmt: str = "svg", width: int = 480, height: int = 360):
    """A pose drawn for a side ("left", "right" or None) as SVG text or PNG bytes."""
    scene = build_scene(side_pose(pose, side), width, height)
    return to_svg(scene) if fmt == "svg" else to_png(scene)
