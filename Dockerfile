# The ganlab app served on port 8000.
#   docker build -t ganlab .   &&   docker run -p 8000:8000 ganlab
# PyTorch from PyPI is the CUDA build (large). For a CPU-only image pass
#   --build-arg TORCH_INDEX_URL=<PyTorch's CPU wheel index>

# Stage 1: build the browser front end (web/) into server/ganlab/static.
FROM node:20-slim AS web
WORKDIR /src
COPY web/package.json web/package-lock.json ./web/
RUN npm ci --prefix web --no-audit --no-fund
COPY web ./web
RUN mkdir -p server/ganlab/static && npm run --prefix web build

# Stage 2: the Python package, with the built page inside it (no Node at run time).
FROM python:3.11-slim

ARG TORCH_INDEX_URL=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GANLAB_HOST=0.0.0.0 GANLAB_PORT=8000

WORKDIR /app
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
      pip install --no-cache-dir "torch>=2.2" --index-url "$TORCH_INDEX_URL"; \
    else \
      pip install --no-cache-dir "torch>=2.2"; \
    fi

COPY pyproject.toml README.md ./
COPY server ./server
COPY --from=web /src/server/ganlab/static ./server/ganlab/static
RUN pip install --no-cache-dir .

RUN useradd --create-home ganlab
USER ganlab
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["ganlab", "serve", "--host", "0.0.0.0", "--port", "8000"]
