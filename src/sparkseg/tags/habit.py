"""Built-in channel-habit tags from campaign touches (the first-loan example).

The bank touches a customer by app push, SMS and WeChat; the channel the customer
responds on becomes their habit channel, and a customer who was touched but answered on
no channel goes to the ``lost`` group (a re-activation audience). The rules are plain
:class:`TagRule` expressions over the campaign features of ``tags.channel_habit.window``
(90 days by default), generated from typed config, so they run in the same single pass
as every other rule.

Smoothed rate per channel: ``(opened + a * p0) / (sent + a)`` (the posterior mean of a
Beta(a*p0, a*(1-p0)) prior). One open out of one send (a=4, p0=0.05: 0.24) therefore
ranks below 8 opens out of 10 (0.59), and one open among five or more sends (<= 0.13)
stays under the default 0.15 threshold.
"""

from __future__ import annotations

import json

from sparkseg.tags.config import ChannelHabitConfig
from sparkseg.tags.rules import TagRule

# habit value -> (sent, responded) column stems of silver/customer_features; the order
# breaks ties (cheapest channel first).
CHANNELS: dict[str, tuple[str, str]] = {
    "wechat": ("wechat_sent", "wechat_opened"),
    "app_push": ("push_sent", "push_opened"),
    "sms": ("sms_sent", "sms_clicked"),
}
HABIT_TAG = "channel_habit"
LOST_TAG = "lost"


def smoothed_rate_sql(sent: str, opened: str, cfg: ChannelHabitConfig) -> str:
    """Spark SQL for ``(opened + a*p0) / (sent + a)``; the denominator is never 0 (a > 0)."""
    a, p0 = float(cfg.prior_strength), float(cfg.prior_rate)
    return f"((coalesce({opened}, 0) + {a * p0!r}D) / (coalesce({sent}, 0) + {a!r}D))"


def channel_columns(cfg: ChannelHabitConfig) -> dict[str, tuple[str, str]]:
    """habit value -> (sent column, responded column) for the configured window."""
    return {ch: (f"{s}_{cfg.window}", f"{o}_{cfg.window}") for ch, (s, o) in CHANNELS.items()}


def habit_value_sql(cfg: ChannelHabitConfig) -> str:
    """The best channel by smoothed rate if that rate reaches ``min_rate``, else null.

    Ties go to the cheaper channel in the order of :data:`CHANNELS` (WeChat, app push, SMS).
    """
    rates = {ch: smoothed_rate_sql(s, o, cfg) for ch, (s, o) in channel_columns(cfg).items()}
    best = "greatest(" + ", ".join(rates.values()) + ")"
    branches = " ".join(f"WHEN {rate} >= {best} THEN '{ch}'" for ch, rate in rates.items())
    return f"CASE WHEN {best} < {float(cfg.min_rate)!r}D THEN NULL {branches} END"


def lost_when_sql(cfg: ChannelHabitConfig) -> str:
    """Touched at least ``lost_min_sent`` times in the window, responded on no channel."""
    columns = channel_columns(cfg).values()
    sent = " + ".join(f"coalesce({s}, 0)" for s, _ in columns)
    opened = " + ".join(f"coalesce({o}, 0)" for _, o in columns)
    return f"({sent}) >= {cfg.lost_min_sent} AND ({opened}) = 0"


def habit_rules(cfg: ChannelHabitConfig) -> tuple[TagRule, TagRule]:
    """The ``channel_habit`` value tag and the ``lost`` flag tag."""
    return (
        TagRule(
            HABIT_TAG,
            "interests_preferences",
            "Campaign channel the customer responds on (wechat, app_push, sms): best "
            f"smoothed {cfg.window} response rate, if it reaches tags.channel_habit.min_rate.",
            f"渠道习惯客户：近{cfg.window[:-1]}天营销触达中平滑响应率最高且达到阈值的渠道（微信、APP推送、短信）。",
            value=habit_value_sql(cfg),
            builtin=True,
        ),
        TagRule(
            LOST_TAG,
            "marketing",
            f"Lost group: touched by campaigns in the last {cfg.window}, opened nothing on "
            "any channel; goes to the re-activation audience.",
            f"流失客户组：近{cfg.window[:-1]}天被营销触达但在所有渠道均未打开，转入登录促活策略。",
            when=lost_when_sql(cfg),
            builtin=True,
        ),
    )


def habit_fingerprint(cfg: ChannelHabitConfig) -> str:
    """The parameters that change habit tags, folded into the rule version."""
    return json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
