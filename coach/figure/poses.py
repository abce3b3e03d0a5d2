"""The built-in pose library: every position of the built-in routines, drawn for the left side.

Each pose is written for the side its exercise names first ("{Side} foot on the wall": the left foot);
the right side is the exact mirror (Pose.mirrored). Angles are relative to the parent bone (see
skeleton.JOINTS); "body" pitch leans the whole figure forward (positive) or back (negative).
"""

from __future__ import annotations

from coach.figure.draw import Pose, Prop
from coach.figure.skeleton import mirror_angles


def _p(name, caption, angles, **kw) -> Pose:
    return Pose(name=name, caption=caption, angles=angles, **kw)


_STAND = {"left_shoulder": {"abduct": 8}, "right_shoulder": {"abduct": 8}, "left_elbow": {"flex": 10}, "right_elbow": {"flex": 10}}


def _couch(pitch: float, rear_thigh: float, front_thigh: float, torso: float, arms: float) -> dict:
    # Thigh angles from straight down, forward positive: the world angle is hip flex - body pitch. The rear
    # thigh slopes back from the hip to the knee at the foot of the wall (negative), and its shin stands
    # straight up the wall: shin angle = thigh angle - knee flex = -180.
    return {
        "body": {"pitch": pitch},
        "left_hip": {"flex": rear_thigh + pitch}, "left_knee": {"flex": min(165, rear_thigh + 180)}, "left_ankle": {"flex": -55},
        "right_hip": {"flex": front_thigh + pitch}, "right_knee": {"flex": front_thigh + 5}, "right_ankle": {"flex": -5},
        "lumbar": {"flex": torso}, "thorax": {"flex": torso / 2},
        "left_shoulder": {"flex": arms}, "right_shoulder": {"flex": arms}, "left_elbow": {"flex": 20}, "right_elbow": {"flex": 20},
    }


NINETY_REAR_CAMERA = 140  # from the front left: the rear leg near, and the chest turning toward it
_NINETY = {
    "left_hip": {"flex": 99, "abduct": 50, "rotate": -90}, "left_knee": {"flex": 95}, "left_ankle": {"flex": -10},
    "right_hip": {"flex": -4, "abduct": 90, "rotate": -15}, "right_knee": {"flex": 95}, "right_ankle": {"flex": -30},
}


def _combat(toe: float) -> dict:
    return {
        "body": {"pitch": 25},
        "left_hip": {"flex": 115}, "left_knee": {"flex": 130}, "left_ankle": {"flex": 40}, "left_toe": {"flex": toe},
        "right_hip": {"flex": -3}, "right_knee": {"flex": 100}, "right_ankle": {"flex": -10}, "right_toe": {"flex": 60},
        "lumbar": {"flex": 10}, "thorax": {"flex": 10},
        "left_shoulder": {"flex": 35}, "right_shoulder": {"flex": 45}, "left_elbow": {"flex": 30}, "right_elbow": {"flex": 40},
    }


def _hamstring(leg: float) -> dict:
    return {
        "body": {"pitch": -90},
        "left_hip": {"flex": leg}, "left_ankle": {"flex": 10},
        "right_hip": {"flex": 0}, "right_ankle": {"flex": -20},
        "neck": {"flex": -8},
        "left_shoulder": {"flex": 0, "abduct": 15}, "right_shoulder": {"flex": 0, "abduct": 15},
    }


def _stand_on_right(**left) -> dict:
    angles = dict(_STAND)
    angles.update(left)
    return angles


POSES: dict[str, Pose] = {p.name: p for p in [
    _p("couch-quadriceps", "Rear knee on a towel, foot up the wall; pelvis tucked, buttocks back to the wall.",
       _couch(pitch=30, rear_thigh=-25, front_thigh=101, torso=5, arms=45), azimuth=180,
       floor=("left_knee", "right_heel"), props=(Prop("towel", "left_knee"), Prop("wall", "left_toe", (-0.07, 0))),
       target=("quadriceps",)),
    _p("couch-psoas", "Chest upright, pelvis tucked under, hips forward.",
       _couch(pitch=-5, rear_thigh=-40, front_thigh=109, torso=5, arms=5), azimuth=180,
       floor=("left_knee", "right_heel"), props=(Prop("towel", "left_knee"), Prop("wall", "left_toe", (-0.07, 0)),
                                                 Prop("arrow", "pelvis", (1, 0))),
       target=("psoas",)),
    _p("ninety-tall", "90/90: front shin across, rear shin behind; inhale tall, pelvis tilted forward.",
       dict(_NINETY, body={"pitch": 10}, lumbar={"flex": -10}, thorax={"flex": -5},
            left_shoulder={"flex": 45, "abduct": 15}, right_shoulder={"flex": 30, "abduct": 20},
            left_elbow={"flex": 20}, right_elbow={"flex": 10}),
       azimuth=160, elevation=22, floor=("pelvis", "left_knee", "right_knee"), target=("gluteals",)),
    _p("ninety-fold", "90/90: exhale, belly and chest over the front thigh, fingertips light on the floor.",
       dict(_NINETY, body={"pitch": 10}, lumbar={"flex": 30, "twist": 20}, thorax={"flex": 25}, upper_thorax={"flex": 10}, neck={"flex": 0},
            left_shoulder={"flex": 0, "abduct": 10}, right_shoulder={"flex": 0, "abduct": 10}, left_elbow={"flex": 10}, right_elbow={"flex": 10}),
       props=(Prop("arrow", "chest", (1, -0.6)),), azimuth=160, elevation=22, floor=("pelvis", "left_knee", "right_knee"), target=("gluteals",)),
    _p("ninety-turn", "90/90, rear leg on the left: hands press the knees down; turn the chest toward the rear leg.",
       dict(mirror_angles(dict(_NINETY, body={"pitch": 10}, lumbar={"twist": -20}, thorax={"twist": -20}, upper_thorax={"twist": -15})),
            left_shoulder={"flex": -20, "abduct": 0}, left_elbow={"flex": 90},  # the rear hand down by the rear knee (fitted)
            right_shoulder={"flex": 50, "abduct": -10}),  # the other on the front knee
       props=(Prop("arrow", "chest", (-1, 0)),), azimuth=NINETY_REAR_CAMERA, elevation=30, floor=("pelvis", "left_knee", "right_knee"),
       target=("gluteals",)),
    _p("ninety-rear", "90/90, rear leg on the left: sit tall, hands on the knees, pressing the rear knee to the floor.",
       dict(mirror_angles(_NINETY), body={"pitch": 10}, left_shoulder={"flex": -20, "abduct": 40}, right_shoulder={"flex": 0, "abduct": 30},
            left_elbow={"flex": 30}, right_elbow={"flex": 60}),  # each hand on its knee (fitted)
       azimuth=NINETY_REAR_CAMERA, elevation=30, floor=("pelvis", "left_knee", "right_knee"), target=("gluteals",)),
    _p("hamstring-wall", "Lying on your back, one leg straight up a wall or a pole (a door frame: the other leg through it).", _hamstring(70), azimuth=180,
       floor=("pelvis", "head", "right_heel"), props=(Prop("pole", "left_heel", (0.05, 0)),), target=("hamstrings",)),
    _p("hamstring-press", "Press the heel into the wall.", _hamstring(70), azimuth=180,
       floor=("pelvis", "head", "right_heel"), props=(Prop("pole", "left_heel", (0.05, 0)), Prop("push", "left_heel", (1, 0))),
       target=("hamstrings",)),
    _p("hamstring-lift", "Lift the leg away from the wall, closer towards you.", _hamstring(100), azimuth=180,
       floor=("pelvis", "head", "right_heel"), props=(Prop("pole", "pelvis", (0.3, 0.09)), Prop("arrow", "left_heel", (-1, 0))),
       target=("hamstrings",)),
    _p("half-fish", "Seated, one knee bent up, the other heel by it; twist and reach the arm across the knee.",
       {"body": {"pitch": -20}, "left_hip": {"flex": 146, "abduct": -10}, "left_knee": {"flex": 140}, "left_ankle": {"flex": -10},
        "right_hip": {"flex": 65, "abduct": 40, "rotate": -90}, "right_knee": {"flex": 145}, "right_ankle": {"flex": -20},
        "lumbar": {"flex": 20, "twist": 15}, "thorax": {"twist": 20}, "upper_thorax": {"twist": 15}, "neck": {"twist": 30},
        "right_shoulder": {"flex": 60, "abduct": -30}, "right_elbow": {"flex": 40},
        "left_shoulder": {"flex": -40, "abduct": 15}},
       azimuth=150, elevation=15, floor=("pelvis", "left_heel", "right_knee"), target=("gluteals",)),
    _p("combat-lean", "Half kneeling: lean the knee forward over the front ankle, heel down.", _combat(0), azimuth=180,
       floor=("left_heel", "left_ball", "right_knee"), props=(Prop("arrow", "left_knee", (1, 0)),), target=("calf",)),
    _p("combat-press", "Push the ball of the front foot into the floor.", _combat(0), azimuth=180,
       floor=("left_heel", "left_ball", "right_knee"), props=(Prop("push", "left_ball", (-1, -0.7)),), target=("calf",)),
    _p("combat-toes-up", "Stay deep in the stretch; lift the front toes off the floor.", _combat(85), azimuth=180,
       floor=("left_heel", "right_knee"), props=(Prop("arrow", "left_toe", (1, 0.8)),), target=("tibialis anterior",)),
    _p("toe-extension", "Kneel and sit back on your heels with the toes tucked under.",
       {"body": {"pitch": 0}, "left_hip": {"flex": 50}, "left_knee": {"flex": 165}, "left_ankle": {"flex": 45}, "left_toe": {"flex": 80},
        "right_hip": {"flex": 50}, "right_knee": {"flex": 165}, "right_ankle": {"flex": 45}, "right_toe": {"flex": 80},
        "left_shoulder": {"flex": 20}, "right_shoulder": {"flex": 20}, "left_elbow": {"flex": 30}, "right_elbow": {"flex": 30}},
       azimuth=180, floor=("left_knee", "left_ball"), target=("foot",)),
    # Pre-run drills: standing on the right leg, the left one moving, seen from the left so it is the near leg.
    _p("stand", "Stand tall.", dict(_STAND), floor=("left_heel", "right_heel")),
    _p("knee-front", "Standing on one leg, the other knee up in front.", _stand_on_right(left_hip={"flex": 90}, left_knee={"flex": 90}),
       azimuth=180, floor=("right_heel",), target=("gluteals",)),
    _p("knee-side", "Knee up and out to the side.", _stand_on_right(left_hip={"flex": 80, "abduct": 50, "rotate": -30}, left_knee={"flex": 90}),
       azimuth=90, elevation=10, floor=("right_heel",), target=("gluteals",)),
    _p("knee-back", "Knee back behind you.", _stand_on_right(left_hip={"flex": -25, "abduct": 20}, left_knee={"flex": 90}),
       azimuth=180, floor=("right_heel",), target=("gluteals",)),
    _p("knee-held", "Hold the lifted thigh with both hands; circle the lower leg.",
       _stand_on_right(left_hip={"flex": 90}, left_knee={"flex": 60}, lumbar={"flex": 10},
                       left_shoulder={"flex": 25}, right_shoulder={"flex": 25}, left_elbow={"flex": 50}, right_elbow={"flex": 50}),
       azimuth=180, floor=("right_heel",), target=("hamstrings",)),
    _p("knee-straight", "Hold the lifted thigh still; straighten the knee as far as it goes.",
       _stand_on_right(left_hip={"flex": 90}, left_knee={"flex": 10}, lumbar={"flex": 10},
                       left_shoulder={"flex": 25}, right_shoulder={"flex": 25}, left_elbow={"flex": 50}, right_elbow={"flex": 50}),
       azimuth=180, floor=("right_heel",), target=("hamstrings",)),
    _p("lunge", "Step forward into a lunge, back knee low.",
       {"left_hip": {"flex": 85}, "left_knee": {"flex": 72}, "right_hip": {"flex": -25}, "right_knee": {"flex": 65},
        "right_ankle": {"flex": -15}, "right_toe": {"flex": 50}, **{k: v for k, v in _STAND.items()}},
       floor=("left_heel", "right_ball"), target=("psoas",), target_side="right"),
    _p("lunge-twist", "In the lunge, twist the chest toward the front knee.",
       {"left_hip": {"flex": 85}, "left_knee": {"flex": 72}, "right_hip": {"flex": -25}, "right_knee": {"flex": 65},
        "right_ankle": {"flex": -15}, "right_toe": {"flex": 50}, "lumbar": {"twist": 20}, "thorax": {"twist": 25},
        "upper_thorax": {"twist": 15}, "left_shoulder": {"flex": 80, "abduct": 10}, "right_shoulder": {"flex": 80, "abduct": 10},
        "left_elbow": {"flex": 90}, "right_elbow": {"flex": 90}},
       azimuth=-30, floor=("left_heel", "right_ball"), target=("psoas",), target_side="right"),
    _p("swing-forward", "Hand on the wall, swing the leg forward.",
       _stand_on_right(left_hip={"flex": 60}, left_knee={"flex": 5}, right_shoulder={"abduct": 80}),
       floor=("right_heel",), azimuth=180, target=("hamstrings",)),
    _p("swing-back", "Swing the leg back.", _stand_on_right(left_hip={"flex": -30}, left_knee={"flex": 10}, right_shoulder={"abduct": 80}),
       azimuth=180, floor=("right_heel",), target=("psoas",)),
    _p("swing-across", "Facing the wall, swing the leg across your body.",
       _stand_on_right(left_hip={"flex": 20, "abduct": -35}, left_shoulder={"flex": 90}, right_shoulder={"flex": 90}),
       azimuth=-90, elevation=5, floor=("right_heel",), target=("gluteals",)),
    _p("swing-out", "Swing the leg out to the side.",
       _stand_on_right(left_hip={"abduct": 45}, left_shoulder={"flex": 90}, right_shoulder={"flex": 90}),
       azimuth=-90, elevation=5, floor=("right_heel",), target=("gluteals",)),
    _p("ankle-circle", "Standing on one leg, foot lifted, circle the ankle.",
       _stand_on_right(left_hip={"flex": 45}, left_knee={"flex": 60}, left_ankle={"flex": -25}),
       azimuth=180, floor=("right_heel",), target=("calf",)),
    _p("ankle-stand", "Facing the wall, front foot a hand's width from it, heel down.",
       {"left_hip": {"flex": 10}, "left_knee": {"flex": 5}, "left_ankle": {"flex": -5}, "right_hip": {"flex": -10},
        "right_knee": {"flex": 5}, "right_ankle": {"flex": 10}, **_STAND},
       azimuth=180, floor=("left_heel", "right_ball"), props=(Prop("wall", "left_toe", (0.12, 0)),), target=("calf",)),
    _p("ankle-rock", "Rock the knee forward over the toes, heel down.",
       {"left_hip": {"flex": 55}, "left_knee": {"flex": 70}, "left_ankle": {"flex": 45}, "right_hip": {"flex": -20},
        "right_knee": {"flex": 30}, "right_ankle": {"flex": -1}, "body": {"pitch": 10}, **_STAND},
       azimuth=180, floor=("left_heel", "right_ball"), props=(Prop("wall", "left_toe", (0.12, 0)), Prop("arrow", "left_knee", (1, 0))), target=("calf",)),
]}
