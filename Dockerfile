# CPU image of the reid-augment tool. Not built on the project's machines (no Docker engine there): kept plain.
# Build:  docker build -t diaflow .
# Run:    docker run --rm -v "$PWD/out:/out" diaflow demo --out /out/demo
#         docker run --rm -v /data/market1501:/data:ro -v "$PWD/out:/out" diaflow augment /data --out /out/aug
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    YOLO_OFFLINE=1 \
    NO_ALBUMENTATIONS_UPDATE=1 \
    YOLO_CONFIG_DIR=/tmp/yolo \
    OMP_NUM_THREADS=4

# OpenCV and mediapipe need these shared libraries at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY diaflow_core ./diaflow_core
COPY reid_augment ./reid_augment
COPY recipes ./recipes

# The CPU wheels of torch keep the image small; the pins in pyproject stay authoritative for the version.
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.14.1" "torchvision==0.29.1" \
    && pip install .

ENTRYPOINT ["reid-augment"]
CMD ["--help"]
