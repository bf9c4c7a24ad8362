"""The clip player shows each distance rounded once: the metres of ``CheetahClip.distance`` to
one decimal, as the Benchmarks chapter's prose writes them (SB3's TD3 ran 14.4495 m in the 5 s
shown: 14.4 m, where rounding to centimetres first gave 1445 cm and then 14.5 m)."""

import re

from rlbook import clip


def test_the_player_shows_each_distance_rounded_once_from_the_metres():
    film = clip.load()
    player = clip.cheetah_player()
    steps = film.meta["render"]["steps"]
    metres = [[film.distance(n, s) if s else 0.0 for s in steps] for n in clip.NAMES]
    # the last frame, written into the page (what shows without JavaScript)
    shown = re.findall(r'class="rlbook-x"[^>]*>x = ([^ ]+) m<', player.html)
    assert [x.replace("\u2212", "-") for x in shown] == [f"{m[-1]:.1f}" for m in metres]
    assert shown[clip.NAMES.index("sb3-td3")] == "14.4"  # 14.4495 m
    # every frame, as the script shows it: decimetres, rounded once
    assert player.data["dm"] == [[round(10 * x) for x in m] for m in metres]
