"""A human skeleton posed by joint angles: fixed bone lengths, forward kinematics in 3D.

Axes: x is where the pelvis faces, y is up, z is the figure's left. Angles are degrees. Every limb
joint is written once for both sides with a side sign (+1 left, -1 right), so a pose and its mirror
(left and right angles swapped, the twists and side bends negated) are exact reflections in z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Vec = tuple[float, float, float]
Mat = tuple[Vec, Vec, Vec]

# Bone lengths in metres, for a figure about 1.75 m tall.
BONES = {
    "hip_width": 0.09, "hip_drop": 0.06, "thigh": 0.45, "shin": 0.43,
    "heel_back": 0.05, "heel_down": 0.07, "ball_forward": 0.15, "ball_down": 0.07, "toe": 0.055,
    "lumbar": 0.17, "thorax": 0.16, "upper_thorax": 0.14, "neck": 0.09, "head": 0.13,
    "shoulder_width": 0.19, "shoulder_drop": 0.03, "upper_arm": 0.30, "forearm": 0.26, "hand": 0.09,
}

# Each joint's degrees of freedom and their ranges (degrees). "body" orients the whole figure.
JOINTS: dict[str, dict[str, tuple[float, float]]] = {
    "body": {"pitch": (-180, 180), "yaw": (-180, 180), "roll": (-180, 180)},
    "lumbar": {"flex": (-40, 80), "bend": (-40, 40), "twist": (-45, 45)},
    "thorax": {"flex": (-30, 60), "bend": (-35, 35), "twist": (-45, 45)},
    "upper_thorax": {"flex": (-25, 50), "bend": (-30, 30), "twist": (-40, 40)},
    "neck": {"flex": (-60, 70), "bend": (-45, 45), "twist": (-80, 80)},
}
_LIMB_JOINTS = {
    "hip": {"flex": (-40, 150), "abduct": (-45, 90), "rotate": (-60, 60)},
    "knee": {"flex": (0, 165)},
    "ankle": {"flex": (-55, 45)},  # dorsiflexion positive (toes up), plantarflexion negative
    "toe": {"flex": (-45, 95)},  # extension positive (toes up)
    "shoulder": {"flex": (-60, 180), "abduct": (-30, 180), "rotate": (-90, 90)},
    "elbow": {"flex": (0, 155)},
    "wrist": {"flex": (-80, 90)},
}
for _side in ("left", "right"):
    for _joint, _dofs in _LIMB_JOINTS.items():
        JOINTS[f"{_side}_{_joint}"] = dict(_dofs)

# Degrees of freedom that change sign in the mirror image (they turn or lean toward one side).
_MIRROR_NEGATES = {"yaw", "roll", "bend", "twist"}


def _rx(a: float) -> Mat:
    c, s = math.cos(math.radians(a)), math.sin(math.radians(a))
    return ((1, 0, 0), (0, c, -s), (0, s, c))


def _ry(a: float) -> Mat:
    c, s = math.cos(math.radians(a)), math.sin(math.radians(a))
    return ((c, 0, s), (0, 1, 0), (-s, 0, c))


def _rz(a: float) -> Mat:
    c, s = math.cos(math.radians(a)), math.sin(math.radians(a))
    return ((c, -s, 0), (s, c, 0), (0, 0, 1))


def _mul(a: Mat, b: Mat) -> Mat:
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))  # type: ignore[return-value]


def _apply(m: Mat, v: Vec) -> Vec:
    return tuple(sum(m[i][k] * v[k] for k in range(3)) for i in range(3))  # type: ignore[return-value]


def _add(a: Vec, b: Vec) -> Vec:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _chain(*ms: Mat) -> Mat:
    out: Mat = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    for m in ms:
        out = _mul(out, m)
    return out


Angles = dict[str, dict[str, float]]


def mirror_angles(angles: Angles) -> Angles:
    """The same pose for the other side: left and right swapped, sideways turns negated."""
    out: Angles = {}
    for joint, dofs in angles.items():
        if joint.startswith("left_"):
            name = "right_" + joint[5:]
        elif joint.startswith("right_"):
            name = "left_" + joint[6:]
        else:
            name = joint
        out[name] = {dof: (-v if dof in _MIRROR_NEGATES else v) for dof, v in dofs.items()}
    return out


def _dof(angles: Angles, joint: str, dof: str) -> float:
    return float(angles.get(joint, {}).get(dof, 0.0))


@dataclass(frozen=True)
class Skeleton:
    """Joint positions (metres, world frame, pelvis at the origin) of one posed figure."""

    points: dict[str, Vec]


def pose_skeleton(angles: Angles) -> Skeleton:
    """Forward kinematics: the position of every joint for the given angles."""
    b = BONES
    pts: dict[str, Vec] = {}
    body = _chain(_ry(_dof(angles, "body", "yaw")), _rz(-_dof(angles, "body", "pitch")), _rx(_dof(angles, "body", "roll")))
    pts["pelvis"] = (0.0, 0.0, 0.0)

    # Spine: each segment flexes forward (about z), bends sideways (about x), twists (about y).
    frame, at = body, (0.0, 0.0, 0.0)
    for seg, top in (("lumbar", "waist"), ("thorax", "chest"), ("upper_thorax", "neck_base")):
        frame = _chain(frame, _rz(-_dof(angles, seg, "flex")), _rx(_dof(angles, seg, "bend")), _ry(_dof(angles, seg, "twist")))
        at = _add(at, _apply(frame, (0.0, b[seg], 0.0)))
        pts[top] = at
    chest_frame = frame
    neck = _chain(frame, _rz(-_dof(angles, "neck", "flex")), _rx(_dof(angles, "neck", "bend")), _ry(_dof(angles, "neck", "twist")))
    pts["head_base"] = _add(at, _apply(neck, (0.0, b["neck"], 0.0)))
    pts["head"] = _add(pts["head_base"], _apply(neck, (0.02, b["head"] * 0.6, 0.0)))
    pts["nose"] = _add(pts["head"], _apply(neck, (b["head"] * 0.85, -0.01, 0.0)))

    for side, s in (("left", 1.0), ("right", -1.0)):
        # Leg: the hip flexes the thigh forward, abducts it outward, rotates it about its length.
        hip = _add((0.0, 0.0, 0.0), _apply(body, (0.0, -b["hip_drop"], s * b["hip_width"])))
        pts[f"{side}_hip"] = hip
        thigh = _chain(body, _rz(_dof(angles, f"{side}_hip", "flex")), _rx(-s * _dof(angles, f"{side}_hip", "abduct")),
                       _ry(s * _dof(angles, f"{side}_hip", "rotate")))
        knee = _add(hip, _apply(thigh, (0.0, -b["thigh"], 0.0)))
        pts[f"{side}_knee"] = knee
        shin = _chain(thigh, _rz(-_dof(angles, f"{side}_knee", "flex")))
        ankle = _add(knee, _apply(shin, (0.0, -b["shin"], 0.0)))
        pts[f"{side}_ankle"] = ankle
        foot = _chain(shin, _rz(_dof(angles, f"{side}_ankle", "flex")))
        pts[f"{side}_heel"] = _add(ankle, _apply(foot, (-b["heel_back"], -b["heel_down"], 0.0)))
        ball = _add(ankle, _apply(foot, (b["ball_forward"], -b["ball_down"], 0.0)))
        pts[f"{side}_ball"] = ball
        toe = _chain(foot, _rz(_dof(angles, f"{side}_toe", "flex")))
        pts[f"{side}_toe"] = _add(ball, _apply(toe, (b["toe"], 0.0, 0.0)))

        # Arm: the shoulder flexes the arm forward, abducts it outward, rotates it about its length.
        shoulder = _add(pts["neck_base"], _apply(chest_frame, (0.0, -b["shoulder_drop"], s * b["shoulder_width"])))
        pts[f"{side}_shoulder"] = shoulder
        upper = _chain(chest_frame, _rz(_dof(angles, f"{side}_shoulder", "flex")), _rx(-s * _dof(angles, f"{side}_shoulder", "abduct")),
                       _ry(s * _dof(angles, f"{side}_shoulder", "rotate")))
        elbow = _add(shoulder, _apply(upper, (0.0, -b["upper_arm"], 0.0)))
        pts[f"{side}_elbow"] = elbow
        fore = _chain(upper, _rz(_dof(angles, f"{side}_elbow", "flex")))
        wrist = _add(elbow, _apply(fore, (0.0, -b["forearm"], 0.0)))
        pts[f"{side}_wrist"] = wrist
        hand = _chain(fore, _rz(_dof(angles, f"{side}_wrist", "flex")))
        pts[f"{side}_hand"] = _add(wrist, _apply(hand, (0.0, -b["hand"], 0.0)))
    return Skeleton(points=pts)


# The bones drawn and checked: (from joint, to joint, length key or None for a fixed offset).
BONE_LENGTHS = [
    ("left_hip", "left_knee", "thigh"), ("left_knee", "left_ankle", "shin"),
    ("right_hip", "right_knee", "thigh"), ("right_knee", "right_ankle", "shin"),
    ("left_shoulder", "left_elbow", "upper_arm"), ("left_elbow", "left_wrist", "forearm"),
    ("right_shoulder", "right_elbow", "upper_arm"), ("right_elbow", "right_wrist", "forearm"),
    ("left_wrist", "left_hand", "hand"), ("right_wrist", "right_hand", "hand"),
    ("pelvis", "waist", "lumbar"), ("waist", "chest", "thorax"), ("chest", "neck_base", "upper_thorax"),
    ("neck_base", "head_base", "neck"), ("left_ball", "left_toe", "toe"), ("right_ball", "right_toe", "toe"),
]
