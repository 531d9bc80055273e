# kurz: a small production image. Build: docker build -t kurz .
# The binary is built without the `explorer` feature: production serves JSON only.

FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, so that code changes do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo fetch --locked && rm -rf src
COPY src src
COPY migrations migrations
COPY config config
COPY assets assets
COPY templates templates
RUN cargo build --release --locked --no-default-features \
    && strip target/release/kurz

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/kurz --create-home kurz \
    && mkdir -p /var/lib/kurz/data && chown -R kurz:kurz /var/lib/kurz
COPY --from=build /src/target/release/kurz /usr/local/bin/kurz
USER kurz
WORKDIR /var/lib/kurz
ENV KURZ_ENV=production \
    KURZ__SERVER__HOST=0.0.0.0 \
    KURZ__SERVER__PORT=8080 \
    KURZ__DATABASE__DATA_DIR=/var/lib/kurz/data
# The SQLite file lives here when no DATABASE_URL is given.
VOLUME ["/var/lib/kurz/data"]
EXPOSE 8080
# kurz checks itself: no curl in the image.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 CMD ["kurz", "healthcheck"]
ENTRYPOINT ["kurz"]
CMD ["serve"]
