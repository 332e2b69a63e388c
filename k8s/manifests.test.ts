/**
 * The Kubernetes picture, checked offline: `kubectl kustomize` builds every overlay; every object validates
 * against its schema (kubernetes-models, @kubernetes-models/keda, cert-manager, argo-cd; SealedSecret by
 * hand: no model package fits Node 20); per overlay the replica and scaling bounds of the infrastructure
 * document; images pinned; probes, resources, a PDB and topology spread for every Deployment and StatefulSet;
 * no plaintext Secret; the consumer wiring matches the code (config keys, durable names, drain time).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ConfigMap, Namespace, Service } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { Application } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1";
import { CHANNELS, consumerSpecs, streams, type Region } from "../core/contract";
import { ConsumerConfig } from "../consumers/config";
import { ManagedLimitsEnv } from "../consumers/ratelimit/limits";

const here = import.meta.dirname;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; [k: string]: any };

function kustomize(dir: string): Obj[] {
  const res = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  if (res.error) throw new Error(`kubectl is missing (.ci/run installs it): ${res.error.message}`);
  if (res.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${res.stderr}`);
  return parseAllDocuments(res.stdout)
    .map((d) => d.toJSON() as Obj)
    .filter(Boolean);
}

/** Schema validation per kind; throws with the model's message. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "cert-manager.io/v1/Certificate": Certificate,
  "argoproj.io/v1alpha1/Application": Application,
};

/** bitnami.com/v1alpha1 SealedSecret: ciphertext only, nothing decryptable-by-reading in the template. */
function validateSealedSecret(o: Obj): void {
  const enc = o.spec?.encryptedData as Record<string, unknown> | undefined;
  if (!enc || typeof enc !== "object" || Object.keys(enc).length === 0) throw new Error("SealedSecret without spec.encryptedData");
  for (const [k, v] of Object.entries(enc)) {
    if (typeof v !== "string" || !/^Ag[A-Za-z0-9+/=_-]{10,}$/.test(v)) throw new Error(`encryptedData.${k} is not kubeseal output (Ag… base64)`);
  }
  if (o.spec.template?.data || o.spec.template?.stringData) throw new Error("SealedSecret template carries plaintext data");
  const extra = Object.keys(o.spec).filter((k) => !["encryptedData", "template"].includes(k));
  if (extra.length) throw new Error(`SealedSecret spec has unknown fields ${extra.join(", ")}`);
}

function validate(o: Obj): void {
  const key = `${o.apiVersion}/${o.kind}`;
  if (key === "bitnami.com/v1alpha1/SealedSecret") return validateSealedSecret(o);
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema for ${key} (${o.metadata.name}): add its model to k8s/manifests.test.ts`);
  new Model(o as never).validate();
}

interface Bounds {
  region: Region;
  natsReplicas: number;
  dragonflyReplicas: number;
  consumers: [number, number];
  streamReplicas: number;
  clickhouse: boolean;
}

// INFRASTRUCTURE-DECISIONS "Kubernetes Overlays" and "Cost Optimization".
const OVERLAYS: Record<string, Bounds> = {
  production: { region: "falkenstein", natsReplicas: 3, dragonflyReplicas: 3, consumers: [2, 50], streamReplicas: 3, clickhouse: true },
  "production-ashburn": { region: "ashburn", natsReplicas: 3, dragonflyReplicas: 3, consumers: [2, 50], streamReplicas: 3, clickhouse: false },
  staging: { region: "falkenstein", natsReplicas: 1, dragonflyReplicas: 1, consumers: [1, 10], streamReplicas: 1, clickhouse: true },
  local: { region: "falkenstein", natsReplicas: 1, dragonflyReplicas: 1, consumers: [1, 1], streamReplicas: 1, clickhouse: false },
};

const built = Object.fromEntries(Object.keys(OVERLAYS).map((o) => [o, kustomize(path.join(here, "overlays", o))]));

const find = (objs: Obj[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} missing`);
  return o;
};
const workloads = (objs: Obj[]) => objs.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const podSpec = (o: Obj): any => o.spec.template.spec;

function imageRef(image: string): { tag?: string; digest?: string } {
  const [nameTag, digest] = image.split("@");
  const lastSlash = nameTag!.lastIndexOf("/");
  const colon = nameTag!.indexOf(":", lastSlash + 1);
  return { tag: colon >= 0 ? nameTag!.slice(colon + 1) : undefined, digest };
}

describe.each(Object.entries(OVERLAYS))("overlay %s", (overlay, bounds) => {
  const objs = built[overlay]!;

  it("builds, and every object validates against its schema", () => {
    expect(objs.length).toBeGreaterThan(15);
    for (const o of objs) expect(() => validate(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });

  it("has the replica and scaling bounds of the infrastructure document", () => {
    expect(find(objs, "StatefulSet", "nats").spec.replicas).toBe(bounds.natsReplicas);
    expect(find(objs, "StatefulSet", "dragonfly").spec.replicas).toBe(bounds.dragonflyReplicas);
    const so = find(objs, "ScaledObject", "consumer");
    expect([so.spec.minReplicaCount, so.spec.maxReplicaCount]).toEqual(bounds.consumers);
    expect(so.spec.scaleTargetRef.name).toBe("consumer");
    const cfg = find(objs, "ConfigMap", "consumer-config").data;
    expect(Number(cfg.NATS_STREAM_REPLICAS)).toBe(bounds.streamReplicas);
    expect(Number(cfg.NATS_STREAM_REPLICAS)).toBeLessThanOrEqual(bounds.natsReplicas);
    expect(cfg.REGION).toBe(bounds.region);
    expect(objs.some((o) => o.kind === "StatefulSet" && o.metadata.name === "clickhouse")).toBe(bounds.clickhouse);
    const analytics = find(objs, "ConfigMap", "analytics-config").data.CLICKHOUSE_URL;
    if (bounds.clickhouse) expect(analytics).toBe("http://clickhouse:8123");
    if (overlay === "production-ashburn") expect(analytics).toBe("https://clickhouse.batchsender.com");
  });

  it("KEDA scales on the lag of every durable consumer of the catalog, in this region and namespace", () => {
    const so = find(objs, "ScaledObject", "consumer");
    const ns = find(objs, "Deployment", "consumer").metadata.namespace;
    const r = bounds.region;
    const expected = [
      { stream: streams.batches.name, consumer: consumerSpecs.planner(r).durable },
      ...CHANNELS.map((c) => ({ stream: streams.sends.name, consumer: consumerSpecs.sender(r, c).durable })),
      { stream: streams.events.name, consumer: `events-${r}` },
      { stream: streams.events.name, consumer: `customer-webhooks-${r}` },
    ];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const triggers = so.spec.triggers.map((t: any) => {
      expect(t.type).toBe("nats-jetstream");
      expect(t.metadata.natsServerMonitoringEndpoint).toBe(`nats-headless.${ns}.svc.cluster.local:8222`);
      expect(t.metadata.account).toBe("$G");
      expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
      return { stream: t.metadata.stream, consumer: t.metadata.consumer };
    });
    expect(triggers).toEqual(expected);
  });

  it("pins every image by tag or digest, never latest", () => {
    const containers = [...workloads(objs), ...objs.filter((o) => o.kind === "Job")].flatMap((o) => [
      ...(podSpec(o).initContainers ?? []),
      ...podSpec(o).containers,
    ]);
    expect(containers.length).toBeGreaterThan(3);
    for (const c of containers) {
      const { tag, digest } = imageRef(c.image);
      expect(tag || digest, `${c.image} has a tag or digest`).toBeTruthy();
      expect(tag, c.image).not.toBe("latest");
      if (digest) expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });

  it("gives every Deployment and StatefulSet probes, resources, topology spread and a PDB", () => {
    const pdbs = objs.filter((o) => o.kind === "PodDisruptionBudget");
    const ws = workloads(objs);
    expect(ws.map((w) => w.metadata.name).sort()).toEqual(["consumer", "dragonfly", "nats", ...(bounds.clickhouse ? ["clickhouse"] : [])].sort());
    for (const w of ws) {
      const id = `${w.kind}/${w.metadata.name}`;
      for (const c of podSpec(w).containers) {
        expect(c.livenessProbe, `${id} liveness`).toBeTruthy();
        expect(c.readinessProbe, `${id} readiness`).toBeTruthy();
        expect(c.resources?.requests?.cpu, `${id} cpu request`).toBeTruthy();
        expect(c.resources?.requests?.memory, `${id} memory request`).toBeTruthy();
        expect(c.resources?.limits?.memory, `${id} memory limit`).toBeTruthy();
      }
      expect(podSpec(w).topologySpreadConstraints?.length, `${id} topology spread`).toBeGreaterThan(0);
      const labels = w.spec.template.metadata.labels as Record<string, string>;
      const covering = pdbs.filter((p) => Object.entries(p.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => labels[k] === v));
      expect(covering.length, `${id} has a PDB`).toBe(1);
      const pdb = covering[0]!.spec;
      // A budget must let a drain proceed: never minAvailable equal to (or above) a single replica.
      if (pdb.minAvailable !== undefined) expect(pdb.minAvailable).toBeLessThan(w.spec.replicas);
      else expect(pdb.maxUnavailable).toBeGreaterThanOrEqual(1);
    }
  });

  it("holds no plaintext secret", () => {
    expect(objs.filter((o) => o.kind === "Secret")).toEqual([]);
    const sealed = objs.filter((o) => o.kind === "SealedSecret").map((o) => o.metadata.name);
    expect(sealed).toContain("consumer-secrets");
    for (const cm of objs.filter((o) => o.kind === "ConfigMap")) {
      for (const key of Object.keys(cm.data ?? {})) expect(key, `${cm.metadata.name}`).not.toMatch(/SECRET|PASSWORD|API_KEY|TOKEN|ENCRYPTION/);
    }
  });

  it("wires the consumer as the code expects: settings, compiled entry, probes, drain time", () => {
    const cfg = find(objs, "ConfigMap", "consumer-config").data as Record<string, string>;
    const sealed = Object.keys(find(objs, "SealedSecret", "consumer-secrets").spec.encryptedData);
    const known = [...Object.keys(ConsumerConfig.shape), ...Object.keys(ManagedLimitsEnv.shape)];
    for (const k of [...Object.keys(cfg), ...sealed]) expect(known, `${k} is a consumer setting`).toContain(k);
    for (const [k, field] of Object.entries(ConsumerConfig.shape)) {
      if (!field.safeParse(undefined).success) expect([...Object.keys(cfg), ...sealed], `required ${k} is provided`).toContain(k);
    }
    const dep = find(objs, "Deployment", "consumer");
    const c = podSpec(dep).containers[0];
    expect(c.args.at(-1)).toBe("dist/consumers/main.js");
    expect(c.envFrom.map((e: { configMapRef?: { name: string }; secretRef?: { name: string } }) => e.configMapRef?.name ?? e.secretRef?.name)).toEqual([
      "consumer-config",
      "consumer-secrets",
    ]);
    const port = c.ports.find((p: { name: string }) => p.name === c.livenessProbe.httpGet.port).containerPort;
    expect(port).toBe(Number(cfg.HTTP_PORT));
    expect(cfg.HTTP_HOST).toBe("0.0.0.0");
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(c.readinessProbe.httpGet.path).toBe("/health/ready");
    // NATS speaks TLS with the internal CA: the consumer trusts it through NODE_EXTRA_CA_CERTS.
    const caPath = c.env.find((e: { name: string }) => e.name === "NODE_EXTRA_CA_CERTS")?.value as string;
    const caMount = c.volumeMounts.find((m: { mountPath: string }) => caPath?.startsWith(`${m.mountPath}/`));
    const caVolume = podSpec(dep).volumes.find((v: { name: string }) => v.name === caMount?.name);
    expect(caVolume?.secret?.secretName).toBe(find(objs, "Certificate", "nats-internal").spec.secretName);
    const grace = Number(cfg.SHUTDOWN_GRACE_SECONDS ?? 30);
    expect(podSpec(dep).terminationGracePeriodSeconds).toBeGreaterThan(grace);
    expect(podSpec(dep).securityContext.runAsNonRoot).toBe(true);
  });

  it("runs the Postgres migrations as an ArgoCD PreSync hook with the compiled `npm run migrate`", () => {
    const job = find(objs, "Job", "migrate");
    expect(job.metadata.annotations?.["argocd.argoproj.io/hook"]).toBe("PreSync");
    const c = podSpec(job).containers[0];
    expect(c.args.at(-1)).toBe("dist/migrate.js");
    expect(c.image).toBe(podSpec(find(objs, "Deployment", "consumer")).containers[0].image);
    expect(c.env.find((e: { name: string }) => e.name === "DATABASE_URL").valueFrom.secretKeyRef.name).toBe("consumer-secrets");
  });

  it("configures NATS: JetStream file storage fsynced before ack, TLS, pinned version, gateways by DNS name", () => {
    const conf = find(objs, "ConfigMap", "nats-config").data["nats.conf"] as string;
    expect(conf).toMatch(/jetstream\s*\{[^}]*store_dir:\s*\/data\/jetstream/);
    expect(conf).toMatch(/jetstream\s*\{[^}]*sync_interval:\s*always/);
    expect(conf).toMatch(/^tls \{/m);
    expect(conf).toContain("include ./region.conf");
    const sts = find(objs, "StatefulSet", "nats");
    expect(podSpec(sts).containers[0].image).toMatch(/^nats:2\.1\d\.\d+(-alpine)?$/);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe("data");
    const region = find(objs, "ConfigMap", "nats-region").data as Record<string, string>;
    if (bounds.natsReplicas === 3) {
      expect(region.GATEWAY_FALKENSTEIN).toBe("nats-gateway.batchsender.com");
      expect(region.GATEWAY_ASHBURN).toBe("nats-gateway.batchsender-us.com");
      expect(region["region.conf"]).toContain(`name: ${bounds.region}`);
      expect(region["region.conf"]).toContain('urls: ["nats://nats-gateway.batchsender.com:7222"]');
      expect(region["region.conf"]).toContain('urls: ["nats://nats-gateway.batchsender-us.com:7222"]');
      const routes = region["region.conf"]!.match(/nats:\/\/nats-\d\.nats-headless\.[\w-]+\.svc\.cluster\.local:6222/g) ?? [];
      expect(routes).toHaveLength(3);
    } else {
      expect(region["region.conf"]).not.toMatch(/cluster|gateway/);
    }
    expect(objs.filter((o) => o.kind === "Certificate").map((o) => o.spec.secretName).sort()).toEqual(["nats-internal-tls", "nats-public-tls"]);
  });
});

describe("nats-server accepts the rendered configuration", () => {
  /** Self-signed stand-ins for the cert-manager secrets, so `nats-server -t` can load the TLS blocks. */
  function fakeTls(dir: string) {
    for (const name of ["internal", "public"]) {
      const d = path.join(dir, "tls", name);
      fs.mkdirSync(d, { recursive: true });
      const res = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${d}/tls.key`, "-out", `${d}/tls.crt`, "-days", "1", "-subj", "/CN=nats"], { encoding: "utf8" });
      if (res.status !== 0) throw new Error(`openssl failed: ${res.stderr}`);
      fs.copyFileSync(`${d}/tls.crt`, `${d}/ca.crt`);
    }
  }
  const accepts = (conf: string, dir: string) => {
    fs.writeFileSync(path.join(dir, "probe.conf"), conf);
    return spawnSync("nats-server", ["-c", path.join(dir, "probe.conf"), "-t"], { encoding: "utf8", env: { ...process.env, SERVER_NAME: "nats-0" } });
  };

  it.each(Object.keys(OVERLAYS))("%s: nats.conf + region.conf pass `nats-server -t`", (overlay) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bs-natsconf-"));
    try {
      fakeTls(dir);
      const local = (c: string) => c.replaceAll("/etc/nats-tls/", `${dir}/tls/`).replace("/data/jetstream", `${dir}/js`).replace("/var/run/nats/", `${dir}/`);
      let conf = local(find(built[overlay]!, "ConfigMap", "nats-config").data["nats.conf"]);
      fs.writeFileSync(path.join(dir, "region.conf"), local(find(built[overlay]!, "ConfigMap", "nats-region").data["region.conf"]));
      // sync_interval needs nats-server 2.10+ (the manifests pin 2.12); Debian's 2.9 does not know it.
      const syncLine = /^\s*sync_interval: always\n/m;
      expect(conf).toMatch(syncLine);
      if (accepts(`jetstream {\n  store_dir: "${dir}/probe"\n  sync_interval: always\n}\n`, dir).status !== 0) conf = conf.replace(syncLine, "");
      fs.writeFileSync(path.join(dir, "nats.conf"), conf);
      const res = spawnSync("nats-server", ["-c", path.join(dir, "nats.conf"), "-t"], { encoding: "utf8", env: { ...process.env, SERVER_NAME: "nats-0" } });
      expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("ClickHouse (Falkenstein only)", () => {
  it("tiers cold data to Backblaze B2 through an S3 disk in a storage policy", () => {
    const xml = find(built.production!, "ConfigMap", "clickhouse-config").data["storage.xml"] as string;
    expect(xml).toMatch(/<type>s3<\/type>\s*<endpoint>https:\/\/s3\.[\w-]+\.backblazeb2\.com\//);
    expect(xml).toMatch(/<hot_cold>[\s\S]*<hot><disk>default<\/disk><\/hot>[\s\S]*<cold><disk>b2_cache<\/disk><\/cold>/);
    expect(xml).toContain('from_env="B2_APPLICATION_KEY"');
  });
});

describe("ArgoCD Applications", () => {
  const apps = kustomize(path.join(here, "argocd"));

  it("one valid Application per deployed overlay, pointing at that overlay", () => {
    expect(apps.map((a) => a.metadata.name).sort()).toEqual(["batchsender-production", "batchsender-production-ashburn", "batchsender-staging"]);
    for (const a of apps) {
      expect(() => validate(a)).not.toThrow();
      const overlayPath = a.spec.source.path as string;
      expect(fs.existsSync(path.join(here, "..", overlayPath, "kustomization.yaml")), overlayPath).toBe(true);
      expect(a.spec.destination.namespace).toBe(find(built[path.basename(overlayPath)]!, "Deployment", "consumer").metadata.namespace);
    }
  });
});

describe("the checks catch bad manifests", () => {
  it("rejects a plaintext-looking SealedSecret, an unknown kind and an invalid Deployment", () => {
    expect(() => validateSealedSecret({ apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", metadata: { name: "x" }, spec: { encryptedData: { A: "hunter2" } } })).toThrow();
    expect(() => validate({ apiVersion: "v1", kind: "Secret", metadata: { name: "x" } })).toThrow(/no schema/);
    const bad = structuredClone(find(built.production!, "Deployment", "consumer"));
    bad.spec.replicas = "two";
    expect(() => validate(bad)).toThrow();
    expect(imageRef("ghcr.io/x/y").tag).toBeUndefined();
    expect(imageRef("localhost:5000/x/y:1.2").tag).toBe("1.2");
  });
});
