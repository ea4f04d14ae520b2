# Authy2 in a container: built with the same `cargo build --release` as the README, run as a
# non-root user from a slim image.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin authy2

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/authy2 --create-home authy2
COPY --from=build /src/target/release/authy2 /usr/local/bin/authy2
USER authy2
WORKDIR /var/lib/authy2
ENV HOST=0.0.0.0 \
    PORT=5000 \
    DATABASE_URL=sqlite:///var/lib/authy2/authy2.db
EXPOSE 5000
VOLUME ["/var/lib/authy2"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/authy2"]
CMD ["serve"]
