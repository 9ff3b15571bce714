"""The daily picture-quality samples in the catalog's database (table of migration 0015): ``SqlQualitySamples`` is
the :class:`vigil.ports.QualitySampleStore`."""

from __future__ import annotations

from sqlalchemy import RowMapping, insert, select

from vigil.domain.degradation import QualityMeasures, QualitySample
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog

_q = t.quality_samples.c


def _sample(row: RowMapping) -> QualitySample:
    measures = QualityMeasures(row["sharpness"], row["contrast"], row["brightness"], row["noise"], row["cast"])
    return QualitySample(row["camera_id"], row["at_us"], row["period"], measures, row["day"], row["frames"])


class SqlQualitySamples:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def add(self, sample: QualitySample) -> bool:
        """Keep it; False when the camera has one for that day and period already (nothing changed)."""
        m = sample.measures
        values = {
            "camera_id": sample.camera_id,
            "day": sample.day,
            "period": sample.period,
            "at_us": sample.at_us,
            "frames": sample.frames,
            "sharpness": m.sharpness,
            "contrast": m.contrast,
            "brightness": m.brightness,
            "noise": m.noise,
            "cast": m.cast,
        }
        taken = _q.camera_id == sample.camera_id, _q.day == sample.day, _q.period == sample.period
        with self._catalog._write() as conn:  # one writer at a time: the look and the insert are one
            if conn.execute(select(_q.id).where(*taken)).first() is not None:
                return False
            conn.execute(insert(t.quality_samples).values(**values))
        return True

    def has(self, camera_id: str, day: str, period: str) -> bool:
        query = select(_q.id).where(_q.camera_id == camera_id, _q.day == day, _q.period == period)
        with self._catalog._read() as conn:
            return conn.execute(query).first() is not None

    def samples(self, camera_id: str, since_us: int = 0, limit: int = 1000) -> list[QualitySample]:
        """The camera's samples since ``since_us``, oldest first (the latest ``limit``)."""
        query = (
            select(t.quality_samples)
            .where(_q.camera_id == camera_id, _q.at_us >= since_us)
            .order_by(_q.at_us.desc())
            .limit(limit)
        )
        with self._catalog._read() as conn:
            rows = [_sample(r) for r in conn.execute(query).mappings()]
        return rows[::-1]
