"""Reading a position's picture: `figure:` (a pose of the library, or joint angles) and `image:` (the user's own file)."""

from __future__ import annotations

from yaml.nodes import Node, ScalarNode

from coach.figure.poses import POSES
from coach.figure.skeleton import JOINTS
from coach.routine.limits import IMAGE_EXTENSIONS
from coach.routine.model import Figure
from coach.routine.read_nodes import _Entry, _did_you_mean, _shortened
from coach.routine.read_values import ValueReader

POSE_NAMES = tuple(POSES)
JOINT_NAMES = tuple(JOINTS)


class FigureReader(ValueReader):
    """Reads the `figure` and `image` keys of an exercise or a step into one Figure."""

    def figure_of(self, fields: dict[str, _Entry]) -> Figure | None:
        """The picture a mapping's `figure` or `image` gives (None when it has neither, or either is wrong)."""
        figure, image = fields.get("figure"), fields.get("image")
        if figure is None and image is None:
            return None
        if figure is not None and image is not None:
            self.error(image.key, "'image' cannot be in the same place as 'figure' (choose one picture)")
            return None
        if image is not None:
            path = self.text("image", image.value)
            if path is None:
                return None
            if not path.lower().endswith(IMAGE_EXTENSIONS):
                allowed = ", ".join(IMAGE_EXTENSIONS)
                self.error(image.value, f"image: '{_shortened(path)}' is not a picture coach shows ({allowed})")
                return None
            return Figure(image=path, where=self.where(image.value))
        return self.figure(figure.value)  # type: ignore[union-attr]

    def figure(self, node: Node) -> Figure | None:
        """`figure: NAME` (a pose of the library) or a mapping of `pose: NAME` and joint angles ({joint: {dof: degrees}})."""
        if isinstance(node, ScalarNode):
            name = self.pose_name(node)
            return None if name is None else Figure(pose=name, where=self.where(node))
        expected = "figure: expected a pose name, or a mapping of 'pose' and joint angles"
        fields = self.mapping(node, expected, "figure", ("pose", *JOINT_NAMES))
        if fields is None:
            return None
        before = len(self.problems)
        pose = self.optional(fields, "pose", self.pose_name)
        angles: list[tuple[str, str, float]] = []
        for joint, entry in fields.items():
            if joint != "pose":
                angles += self.joint_angles(joint, entry.value)
        if len(self.problems) > before:
            return None
        if pose is None and not angles:
            self.error(node, "figure: give a 'pose' or at least one joint's angles")
            return None
        return Figure(pose=pose, angles=tuple(angles), where=self.where(node))

    def pose_name(self, node: Node) -> str | None:
        """A name of the pose library."""
        name = self.text("figure", node)
        if name is None:
            return None
        if name not in POSES:
            hint = _did_you_mean(name, POSE_NAMES) or " (`coach figure --list` names them)"
            self.error(node, f"figure: unknown pose '{_shortened(name)}'{hint}")
            return None
        return name

    def joint_angles(self, joint: str, node: Node) -> list[tuple[str, str, float]]:
        """One joint's angles: {flex: 90, abduct: 20}, each within the joint's range."""
        dofs = JOINTS[joint]
        listed = ", ".join(dofs)
        expected = f"figure: {joint}: expected its angles in degrees, e.g. {{{next(iter(dofs))}: 30}} ({listed})"
        fields = self.mapping(node, expected, f"figure.{joint} (its angles: {listed})", tuple(dofs))
        found = []
        for dof, entry in (fields or {}).items():
            low, high = dofs[dof]
            value = self.number(f"figure: {joint}.{dof}", entry.value, low, high)
            if value is not None:
                found.append((joint, dof, value))
        return found
