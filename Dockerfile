# syntax=docker/dockerfile:1.7
# The regional consumer image (k8s/base/consumer-deployment.yaml runs it; the migration Job runs dist/migrate.js).
#
# NOT BUILT HERE: the development machines and CI have no container daemon and no registry for base images
# (DESIGN §12). dev/dockerfile.test.ts checks what can be checked without one: the base image is pinned by
# digest, the build stage's commands compile the consumer from exactly the files this file copies, and the
# runtime stage's contents (production dependencies + dist/ + migrations/) start the compiled consumer.
#
# Base: node:20-bookworm-slim (Node 20 only, DESIGN §12), pinned by its multi-arch index digest. Bump it
# deliberately: `docker buildx imagetools inspect node:20-bookworm-slim` prints the current one.
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

# ---- build: every dependency, compile TypeScript to dist/ ------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY core ./core
COPY consumers ./consumers
COPY dev/build.ts dev/migrate.ts ./dev/
RUN npm run build

# ---- deps: production dependencies only (no esbuild/vitest/wrangler in the image) ------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (whose handler stops intake and drains within
# SHUTDOWN_GRACE_SECONDS, consumers/main.ts) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# "type": "module" makes dist/*.js ESM; migrations/ is what `node dist/migrate.js` applies.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
# Numeric non-root user (k8s runAsNonRoot can verify a number, not a name); files stay root-owned, read-only.
USER 10001:10001
EXPOSE 9100
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/consumers/main.js"]
