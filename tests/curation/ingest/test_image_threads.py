"""Images checked on the ingest's threads: the same rows, references and reasons as checked one by one; paths
checked against the roots with fewer system calls give the same answers; plain text rows still told apart."""
import hashlib
import io
import json

import pytest
import simplejpeg
from PIL import Image as PILImage

from curation.ingest.records import RecordPreparer
from curation.models import Image, JobError, SourceRow
from curation.services import job_kinds
from curation.services.images import ImageRejected, image_file_path, image_inspect
from curation.services.ingest import source_ingest
from curation.services.jobs import job_create
from curation.services.paths import PathNotAllowed, RelativePaths, path_resolve_relative
from curation.services.sources import source_register
from tests.curation.ingest.makers import image_bytes, write_jsonl

pytestmark = pytest.mark.django_db

ROWS = 60


def _source_with_images(folder):
    """ROWS rows: most name a JPEG of their own, some share one, one names a truncated JPEG, one a missing file,
    one a PNG, and text rows between them."""
    images = folder / "images"
    images.mkdir(parents=True)
    records = []
    for i in range(ROWS):
        if i == 17:
            (images / "broken.jpg").write_bytes(image_bytes(size=(64, 64), fmt="JPEG")[:300])
            records.append({"id": i, "image": "images/broken.jpg"})
        elif i == 23:
            records.append({"id": i, "image": "images/gone.jpg"})
        elif i % 7 == 0:
            records.append({"id": i, "text": f"a row of text only, number {i}"})
        elif i % 5 == 0:
            records.append({"id": i, "image": "images/shared.png", "q": "a picture many rows share"})
        else:
            (images / f"{i}.jpg").write_bytes(image_bytes(color=(i * 4, 90, 200 - i), size=(40 + i, 30), fmt="JPEG"))
            records.append({"id": i, "image": f"images/{i}.jpg"})
    (images / "shared.png").write_bytes(image_bytes(color=(1, 2, 3)))
    return write_jsonl(folder / "rows.jsonl", records)


def _ingest(path, name):
    source = source_register(name=name, location=str(path))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    source_ingest(source=source, job=job)
    job.refresh_from_db()
    rows = {row.row_number: (row.data, row.image_shas) for row in SourceRow.objects.filter(source=source)}
    return rows, job


@pytest.mark.parametrize("threads", [0, 3])
def test_rows_whose_images_are_checked_on_threads_are_those_checked_one_by_one(tmp_path, settings, threads):
    path = _source_with_images(tmp_path)
    settings.FINECURATE_INGEST_IMAGE_THREADS = threads
    rows, job = _ingest(path, f"threads-{threads}")

    assert sorted(rows) == [n for n in range(ROWS) if n not in (17, 23)]
    assert job.result["rejected"] == 2
    messages = dict(JobError.objects.filter(job=job).values_list("row_number", "message"))
    assert "images/broken.jpg" in messages[17] and ("corrupt image" in messages[17] or "not an image" in messages[17])
    assert "image file not found: images/gone.jpg" in messages[23]
    for number, (data, shas) in rows.items():
        if "image" not in data:
            assert shas == []
            continue
        name = "shared.png" if number % 5 == 0 and number % 7 else f"{number}.jpg"
        expected = hashlib.sha256((tmp_path / "images" / name).read_bytes()).hexdigest()
        assert data["image"] == {"$image": expected} and shas == [expected]
        image = Image.objects.get(pk=expected)
        assert image_file_path(image=image).read_bytes() == (tmp_path / "images" / name).read_bytes()
    # With threads or without: the same rows and references (a sequential check is the reference).
    settings.FINECURATE_INGEST_IMAGE_THREADS = 0 if threads else 3
    other, _ = _ingest(path, f"threads-other-{threads}")
    assert other == rows


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
@pytest.mark.parametrize("progressive", [False, True])
def test_a_truncated_jpeg_fails_the_scaled_check_and_a_whole_one_passes_with_its_full_size(mode, progressive):
    """RGB JPEGs are checked on their luminance only: libjpeg still decodes every component's data."""
    buffer = io.BytesIO()
    PILImage.effect_noise((512, 384), 60).convert(mode).save(buffer, format="JPEG", quality=90, progressive=progressive)
    whole = buffer.getvalue()
    assert image_inspect(data=whole) == ("JPEG", 512, 384)
    with pytest.raises(ImageRejected, match="corrupt image|not an image"):
        image_inspect(data=whole[: len(whole) // 2])


def _noise_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    PILImage.effect_noise(size, 60).convert("RGB").save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_jpeg_libjpeg_warns_about_is_judged_by_pillow_which_keeps_it():
    """simplejpeg refuses a JPEG with stray bytes before a marker (a libjpeg warning); Pillow reads it, and keeps
    its verdict: the fast check never rejects what Pillow accepts."""
    whole = _noise_jpeg()
    at = whole.find(b"\xff\xda")
    stray = whole[:at] + b"\x00\x01\x02" + whole[at:]
    with pytest.raises(ValueError, match="extraneous bytes"):
        simplejpeg.decode_jpeg(stray, colorspace="GRAY", strict=True)
    assert image_inspect(data=stray) == ("JPEG", 64, 48)


def test_a_multi_picture_jpeg_is_refused_as_pillow_refuses_it():
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48)).save(buffer, format="MPO", save_all=True, append_images=[PILImage.new("RGB", (64, 48))])
    with pytest.raises(ImageRejected, match="format MPO is not accepted"):
        image_inspect(data=buffer.getvalue())


def test_the_jpeg_check_refuses_an_image_over_the_pixel_limit_from_its_header(settings):
    settings.FINECURATE_MAX_IMAGE_PIXELS = 64 * 48 - 1
    with pytest.raises(ImageRejected, match="64x48 pixels is over the limit"):
        image_inspect(data=_noise_jpeg())


def test_a_bad_image_given_as_bytes_rejects_its_row_after_the_threads_checked_it(tmp_path):
    preparer = RecordPreparer(image_threads=2)
    try:
        good = preparer.prepare({"image": {"bytes": image_bytes(), "path": None}}, base_dir=tmp_path)
        bad = preparer.prepare({"image": {"bytes": b"\x89PNG not really", "path": None}}, base_dir=tmp_path)
        preparer.settle(good)
        assert good.image_shas == [hashlib.sha256(image_bytes()).hexdigest()] and not Image.objects.exists()
        with pytest.raises(Exception, match="image: bytes that are not an image we keep"):
            preparer.settle(bad)
        assert [image.sha256 for image in preparer.images.ready] == good.image_shas  # saved by the caller
    finally:
        preparer.images.close()


@pytest.fixture
def tree(tmp_path, tmp_path_factory):
    """A data root with a real folder, a link to a folder inside it, and links leading out of the roots."""
    outside = tmp_path_factory.mktemp("not-a-root")
    (outside / "secret.jpg").write_bytes(b"secret")
    root = tmp_path
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "c.jpg").write_bytes(b"x")
    (root / "inner").symlink_to(root / "a")
    (root / "a" / "out.jpg").symlink_to(outside / "secret.jpg")
    (root / "a" / "outdir").symlink_to(outside)
    return root


@pytest.mark.parametrize("relative", ["b/c.jpg", "b/c.jpg", "b/missing.jpg", "b", "out.jpg", "outdir/secret.jpg",
                                      "../a/b/c.jpg", "./b/c.jpg", "b//c.jpg", "/etc/passwd", "b/c.jpg/x", ""])
@pytest.mark.parametrize("base", ["a", "inner"])
def test_relative_paths_give_the_answers_of_path_resolve_relative(tree, base, relative):
    paths = RelativePaths()
    for _ in range(2):  # the second time from what it remembers
        try:
            expected: object = path_resolve_relative(base=tree / base, relative=relative)
            expected = (expected, expected.is_file())
        except PathNotAllowed:
            expected = PathNotAllowed
        try:
            answer: object = paths.resolve(base=tree / base, relative=relative)
        except PathNotAllowed:
            answer = PathNotAllowed
        assert answer == expected


@pytest.mark.parametrize("record", [
    {"IMAGE": "a picture"},
    {"Photos": ["x"]},
    {"ımage": "x"},  # dotless i: the name matches case-insensitively
    {"text": "nul \u0000 inside"},
    {"text": "lone \ud800 surrogate"},
    {"meta": {"$image": "abc"}},
    {"url": "DATA:IMAGE/PNG;base64,AAAA"},
    {"file": "cat.JPG "},
    {"q": "K\u212a.png"},
])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_rows_that_may_hold_images_or_bad_text_are_not_taken_as_they_are(record, ascii_only):
    text = json.dumps(record, ensure_ascii=ascii_only)
    if not text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") == text or "\x00" in text:
        text = json.dumps(record)  # JSON text read from a file holds a NUL or a lone surrogate only escaped
    assert RecordPreparer().prepare_quick(record, json_text=text) is None


def test_plain_text_rows_are_taken_as_they_are():
    record = {"id": 1, "messages": [{"role": "user", "content": "What is in picture 3? \"A cat.\""}], "score": 0.5}
    text = json.dumps(record)
    assert RecordPreparer().prepare_quick(record, json_text=text).json_text == text
