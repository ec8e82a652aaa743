# Multi-stage build: compile in the Rust image, run in a slim Debian as a non-root user with the
# database on a volume.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin localtwilio

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data localtwilio \
    && mkdir -p /data && chown localtwilio /data
COPY --from=build /src/target/release/localtwilio /usr/local/bin/localtwilio
# The demo data set, for `docker run … serve --seed /usr/share/localtwilio/demo.json`.
COPY config/demo.json /usr/share/localtwilio/demo.json
USER localtwilio
ENV LOCALTWILIO_LISTEN=0.0.0.0:8080 \
    LOCALTWILIO_DATABASE=/data/localtwilio.db
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/localtwilio"]
CMD ["serve"]
