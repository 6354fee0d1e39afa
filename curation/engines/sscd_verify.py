"""The verifying stage for copy detection: local features and a geometric check on a candidate pair.

A global embedding alone does not separate heavy edits from look-alikes (a stereo pair, two shots of one
scene). A copy, however edited (resized, recompressed, cropped, rotated a little, bordered, captioned,
flipped), maps onto its original by one similarity transform; a look-alike does not. So: ORB keypoints on
both images, ratio-tested matches, and RANSAC fitting a partial affine (rotation, scale, translation) with
a tight reprojection error; tried again with the second image mirrored, for flipped copies. Two guards
against look-alikes that still share many keypoints: the inliers must cover a real part of both images
(a shared caption band alone is not a copy), and a second view of one scene (a stereo pair) is told apart
by parallax: its matches fit an epipolar geometry (a fundamental matrix) clearly better than any single
similarity transform, while a copy's matches fit both equally. The inliers are the evidence, and the
matched points are kept so a reviewer can see them.
"""
import io
from dataclasses import dataclass, field
from importlib import metadata

import cv2
import numpy as np
from PIL import Image as PILImage

from curation.engines.base import Availability

WORK_SIDE = 512  # both images are compared at this longer side
ORB_FEATURES = 1500
RATIO = 0.8
RANSAC_PIXELS = 4.0  # at WORK_SIDE; a copy maps within a few pixels, parallax does not
MIN_INLIERS = 15  # the documented default: a pair is a verified copy at this many inliers...
MIN_COVERAGE = 0.05  # ...spread over at least this fraction of both images (bounding box of the inliers)...
MIN_PLANAR_RATIO = 0.95  # ...and fitting one similarity transform nearly as well as a fundamental matrix
EPIPOLAR_PIXELS = 1.0
MAX_KEPT_MATCHES = 60  # matched points stored as evidence


@dataclass
class Verification:
    inliers: int
    matches: int
    mirrored: bool = False
    coverage: float = 0.0
    planar_ratio: float = 0.0
    # Inlier keypoints as fractions of each image's width and height: [[ax, ay, bx, by], ...].
    points: list[list[float]] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.inliers >= MIN_INLIERS and self.coverage >= MIN_COVERAGE and self.planar_ratio >= MIN_PLANAR_RATIO

    @property
    def score(self) -> float:
        """The verifier's score in [0, 1]: 0 when a guard fails, else inliers with 2 x MIN_INLIERS counting as 1."""
        if self.coverage < MIN_COVERAGE or self.planar_ratio < MIN_PLANAR_RATIO:
            return 0.0
        return round(min(1.0, self.inliers / (2.0 * MIN_INLIERS)), 4)

    def evidence(self) -> dict:
        return {
            "inliers": self.inliers,
            "matches": self.matches,
            "mirrored": self.mirrored,
            "coverage": round(self.coverage, 4),
            "planar_ratio": round(self.planar_ratio, 4),
            "verified": self.verified,
            "points": self.points,
        }


def _gray(image: PILImage.Image | bytes) -> np.ndarray:
    if isinstance(image, bytes | bytearray):
        image = PILImage.open(io.BytesIO(image))
    image = image.convert("L")
    scale = WORK_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), PILImage.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


class OrbRansacVerifier:
    """ORB + RANSAC (OpenCV) on a candidate pair; `verify(a, b) -> Verification`."""

    name = "orb-ransac"

    def __init__(self) -> None:
        self.version = f"opencv {_opencv_version()} orb{ORB_FEATURES} ransac{RANSAC_PIXELS:g}px"
        self._orb = cv2.ORB_create(nfeatures=ORB_FEATURES, fastThreshold=10)  # type: ignore[attr-defined]
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)

    def available(self) -> Availability:
        return Availability(True)

    def features(self, image: PILImage.Image | bytes) -> tuple[np.ndarray, list, np.ndarray | None]:
        gray = _gray(image)
        keypoints, descriptors = self._orb.detectAndCompute(gray, None)
        return gray, list(keypoints), descriptors

    def verify(self, a: PILImage.Image | bytes, b: PILImage.Image | bytes) -> Verification:
        gray_a, kp_a, des_a = self.features(a)
        gray_b = _gray(b)
        best = Verification(0, 0)
        for mirrored in (False, True):
            view = cv2.flip(gray_b, 1) if mirrored else gray_b
            kp_b, des_b = self._orb.detectAndCompute(view, None)
            found = self._match(gray_a.shape, kp_a, des_a, view.shape, list(kp_b), des_b, mirrored)
            if (found.verified, found.inliers) > (best.verified, best.inliers):
                best = found
            if best.verified and best.inliers >= 2 * MIN_INLIERS:
                break  # certain already; the mirrored try would not change the verdict
        return best

    def _match(
        self, shape_a: tuple[int, ...], kp_a: list, des_a: np.ndarray | None,
        shape_b: tuple[int, ...], kp_b: list, des_b: np.ndarray | None, mirrored: bool,
    ) -> Verification:
        if des_a is None or des_b is None or len(kp_a) < 3 or len(kp_b) < 3:
            return Verification(0, 0, mirrored)
        good = []
        for pair in self._matcher.knnMatch(des_a, des_b, k=2):
            if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
                good.append(pair[0])
        if len(good) < 4:
            return Verification(0, len(good), mirrored)
        src = np.array([kp_a[m.queryIdx].pt for m in good], dtype=np.float32)
        dst = np.array([kp_b[m.trainIdx].pt for m in good], dtype=np.float32)
        cv2.setRNGSeed(0)  # RANSAC is random: the same pair always gets the same verdict
        _, mask = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PIXELS, maxIters=2000, confidence=0.995
        )
        if mask is None:
            return Verification(0, len(good), mirrored)
        keep = mask.ravel().astype(bool)
        inliers = int(keep.sum())
        ha, wa = shape_a
        hb, wb = shape_b
        coverage = 0.0
        planar_ratio = 0.0
        if inliers >= 8:
            a_in, b_in = src[keep], dst[keep]
            box_a = np.ptp(a_in[:, 0]) * np.ptp(a_in[:, 1]) / (wa * ha)
            box_b = np.ptp(b_in[:, 0]) * np.ptp(b_in[:, 1]) / (wb * hb)
            coverage = float(min(box_a, box_b))
            _, epipolar = cv2.findFundamentalMat(src, dst, cv2.FM_RANSAC, EPIPOLAR_PIXELS, 0.999)
            epipolar_inliers = int(epipolar.sum()) if epipolar is not None else 0
            planar_ratio = float(min(1.0, inliers / max(epipolar_inliers, 1)))
        points = []
        for (ax, ay), (bx, by) in list(zip(src[keep], dst[keep], strict=True))[:MAX_KEPT_MATCHES]:
            bx_frac = 1.0 - bx / wb if mirrored else bx / wb
            points.append([round(float(ax / wa), 4), round(float(ay / ha), 4), round(float(bx_frac), 4), round(float(by / hb), 4)])
        return Verification(inliers, len(good), mirrored, coverage, planar_ratio, points)


def _opencv_version() -> str:
    try:
        return metadata.version("opencv-python-headless")
    except metadata.PackageNotFoundError:
        return cv2.__version__
