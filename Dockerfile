# mailcatch in a container: SMTP on 1025, web UI and API on 8025.
#   docker build -t mailcatch . && docker run -p 1025:1025 -p 8025:8025 mailcatch
FROM python:3.12-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY mailcatch ./mailcatch
COPY static ./static
RUN pip install --no-cache-dir . \
    && rm -rf /src \
    && useradd --system --create-home --home-dir /data --uid 10001 mailcatch

USER mailcatch
WORKDIR /data
# Inside the container it must listen on every interface for the published ports to reach it.
ENV MAILCATCH_SMTP=0.0.0.0:1025 \
    MAILCATCH_LISTEN=0.0.0.0:8025 \
    PYTHONUNBUFFERED=1
EXPOSE 1025 8025
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8025/livez', timeout=2)"]
ENTRYPOINT ["mailcatch"]
