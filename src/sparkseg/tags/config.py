"""Config of the ``tags`` stage."""

from __future__ import annotations

from pydantic import Field, model_validator

from sparkseg._model import Section


class ChannelHabitConfig(Section):
    """Built-in channel-habit and lost-group tags from campaign touches (90-day window).

    A channel's smoothed response rate is ``(opened + a * p0) / (sent + a)``: a Beta(a*p0,
    a*(1-p0)) prior, so a few touches barely move a customer away from ``p0``.
    """

    enabled: bool = True
    # a: weight of the prior, in pseudo-touches.
    prior_strength: float = Field(4.0, gt=0)
    # p0: the rate a customer is assumed to have before any touch.
    prior_rate: float = Field(0.05, ge=0, lt=1)
    # A customer's best smoothed rate must reach this to earn a habit tag.
    min_rate: float = Field(0.3, gt=0, le=1)
    # Touches (all channels) with no response needed for the ``lost`` group.
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
