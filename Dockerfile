# mailcatch in a container: SMTP on 1025, web UI and API on 8025, published on this machine only.
#   docker build -t mailcatch .
#   docker run --rm -p 127.0.0.1:1025:1025 -p 127.0.0.1:8025:8025 -v mailcatch-data:/data \
#       mailcatch --database /data/mailcatch.db
FROM python:3.12-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY docker/constraints.txt ./docker/
COPY mailcatch ./mailcatch
COPY static ./static
# Dependencies at the releases docker/constraints.txt pins, so that a build next year installs what was tested.
# With the postgres extra: --database postgresql://... runs replicas on one PostgreSQL (docs/compose/).
# Its own user, whose home /data starts empty (no shell start-up files in the volume).
RUN pip install --no-cache-dir --constraint docker/constraints.txt '.[postgres]' \
    && rm -rf /src \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /data --shell /usr/sbin/nologin mailcatch \
    && install -d -o mailcatch -g mailcatch /data

USER mailcatch
WORKDIR /data
# Mail is kept in memory unless --database (or MAILCATCH_DATABASE) names a file: put it in /data, on a
# volume, to keep the mail when the container is removed.
VOLUME /data
# Inside the container it must listen on every interface for the published ports to reach it.
ENV MAILCATCH_SMTP=0.0.0.0:1025 \
    MAILCATCH_LISTEN=0.0.0.0:8025 \
    PYTHONUNBUFFERED=1
EXPOSE 1025 8025
# /livez on the port MAILCATCH_LISTEN names (move the UI with -e MAILCATCH_LISTEN=0.0.0.0:PORT, and the check
# follows), asked directly: never through the proxy that HTTP_PROXY names (Docker's client proxy settings put it
# in every container).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; port = os.environ.get('MAILCATCH_LISTEN', ':8025').rsplit(':', 1)[1]; u.build_opener(u.ProxyHandler({})).open(f'http://127.0.0.1:{port}/livez', timeout=2)"]
ENTRYPOINT ["mailcatch"]
