"""Builders for copy-detection tests: subsets of real photographs and their edited copies, stored like ingested images."""
import io

from PIL import Image

from curation.services.images import image_store
from tests.curation.dedup.nearcopy_set import _photo, edits
from tests.factories import mapping_make, sample_make, source_make, subset_make


def stored(image: Image.Image):  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return image_store(data=buffer.getvalue())


def photo_subset(name: str = "photos"):  # type: ignore[no-untyped-def]
    """astronaut + its JPEG copy (a duplicate pair), coffee, the stereo pair (not copies), a crop of rocket (leaks
    into the benchmark of rocket). Returns (subset, samples by label)."""
    subset = subset_make(name=name)
    source = source_make()
    mapping_make(source=source, subset=subset)
    astronaut = _photo("astronaut")
    images = {
        "astronaut": stored(astronaut),
        "astronaut_jpeg": stored(edits(astronaut)["jpeg"]),
        "coffee": stored(_photo("coffee")),
        "moto_left": stored(_photo("motorcycle_left")),
        "moto_right": stored(_photo("motorcycle_right")),
        "rocket_crop": stored(edits(_photo("rocket"))["crop"]),
    }
    samples = {
        label: sample_make(subset=subset, source=source, images=[image], row_number=i,
                           turns=[{"user": f"What is in {label}?", "assistant": f"It shows {label}."}])
        for i, (label, image) in enumerate(images.items())
    }
    return subset, samples


def benchmark_folder(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "bench"
    folder.mkdir()
    _photo("rocket").save(folder / "rocket.png")
    _photo("chelsea").save(folder / "chelsea.png")
    return folder
