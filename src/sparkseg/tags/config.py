"""Config of the ``tags`` stage."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sparkseg._model import Section


class ChannelHabitConfig(Section):
    """Built-in channel-habit and lost-group tags from campaign touches.

    A channel's smoothed response rate is ``(opened + a * p0) / (sent + a)``: a Beta(a*p0,
    a*(1-p0)) prior, so a few touches barely move a customer away from ``p0``.
    """

    enabled: bool = True
    # Window of the campaign features used (<channel>_sent_<window> etc.). A year, because
    # with about one campaign a quarter 90 days hold too few touches to tell habit from chance.
    window: Literal["90d", "365d"] = "365d"
    # a: weight of the prior, in pseudo-touches.
    prior_strength: float = Field(4.0, gt=0)
    # p0: the rate a customer is assumed to have before any touch.
    prior_rate: float = Field(0.05, ge=0, lt=1)
    # A customer's best smoothed rate must reach this to earn a habit tag.
    # 0.15 (3 x p0): one open out of up to four touches on a channel is enough when
    # nothing else competes; one open among five or more is not, and 1 of 1 (0.24)
    # still loses to 8 of 10 elsewhere (0.59).
    min_rate: float = Field(0.15, gt=0, le=1)
    # Touches (all channels, within the window) with no response needed for ``lost``.
    lost_min_sent: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _threshold_above_prior(self) -> ChannelHabitConfig:
        # Otherwise every untouched customer (rate = p0 on every channel) would get a habit.
        if self.min_rate <= self.prior_rate:
            raise ValueError("channel_habit.min_rate must be greater than prior_rate")
        return self


class TagsConfig(Section):
    # Relative to the config file's folder (Config.resolve).
    rules: str = "tags.yaml"
    channel_habit: ChannelHabitConfig = ChannelHabitConfig()
